"""Runs WEB_CONCURRENCY daphne processes on one listening socket.

Daphne serves from one process (one core, for Python code). The Channels
deployment docs run several behind one socket with supervisord's
fcgi-program and ``daphne --fd``; this is that pattern without supervisord:
bind once, start N ``daphne --fd`` children sharing the socket (the kernel
hands each new connection to one of them), forward SIGTERM/SIGINT, and stop
everything if one child dies so the supervisor above (config/respawn.py
under honcho, compose's restart policy) restarts a whole, known state.
WebSockets work across processes because events travel through the Redis
channel layer.

    WEB_HOST=0.0.0.0 WEB_PORT=8000 WEB_CONCURRENCY=2 python -m config.serve
"""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def main() -> int:
    host = os.environ.get("WEB_HOST", "127.0.0.1")
    port = int(os.environ.get("WEB_PORT", "8000"))
    workers = max(1, int(os.environ.get("WEB_CONCURRENCY", "1")))
    sock = listen(host, port)
    daphne = str(Path(sys.executable).with_name("daphne"))
    command = [daphne, "--fd", str(sock.fileno()), "config.asgi:application"]
    children = [subprocess.Popen(command, pass_fds=(sock.fileno(),)) for _ in range(workers)]
    print(f"serving http://{host}:{port}/ with {workers} daphne process(es)", flush=True)

    told_to_stop = False

    def stop_children():
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    def on_signal(signum, _frame):
        nonlocal told_to_stop
        told_to_stop = True
        stop_children()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    first_exit = None
    while any(child.poll() is None for child in children):
        try:
            _pid, status = os.wait()
        except ChildProcessError:
            break
        if first_exit is None:
            first_exit = os.waitstatus_to_exitcode(status)
            stop_children()  # one ended: stop the rest, so the supervisor restarts a whole set
    for child in children:
        child.wait()
    sock.close()
    if told_to_stop:
        return 0
    return first_exit if first_exit and first_exit > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
