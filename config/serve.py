"""The web role: HTTP and WebSockets on one port, WEB_HOST:WEB_PORT.

    python -m config.serve         # make run: nginx on the port, /ws/ to daphne, the rest to granian
    python -m config.serve http    # compose's web service: granian alone on the port
    python -m config.serve ws      # compose's ws service: daphne alone on the port

Why three servers: under ASGI every sync Django view runs on one thread per
process, so a daphne process serves one HTTP request at a time. granian's
WSGI workers serve WEB_THREADS requests at once in each of WEB_CONCURRENCY
processes (bench/http_load.py compares the two). granian rather than
gunicorn's gthread workers: it parses HTTP and keeps connections in Rust,
where gunicorn does it in Python, ~0.35-0.45 ms less server CPU a request
(bench/http_load.py's mix at load 6-7: 2.14 against 2.48-3.05 ms a request,
a categories request 0.81 against 1.17-1.25 ms). daphne stays the WebSocket
server, the split the Channels deployment docs describe, and nginx
(config/nginx/tally.conf.template) is the one origin the live page and a
frontend need: it routes /ws/ to daphne and buffers slow clients.

daphne listens on a loopback socket bound here (port 0, handed over as a file
descriptor, so two runs never race for its port); granian, which takes no
descriptor, binds a free loopback port picked here. nginx connects from
the loopback address, so that address joins TRUSTED_PROXIES for the Django
processes: the throttles see the client's address from X-Forwarded-For.

Supervision: SIGTERM/SIGINT stop every child (nginx with SIGQUIT, the others
with SIGTERM; SIGKILL to whatever is left after STOP_GRACE_SECONDS, below
config/respawn.py's grace), and when one child dies the rest are stopped too,
so the supervisor above (config/respawn.py under honcho, compose's restart
policy) restarts a whole, known set.
"""

import ctypes
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NGINX_TEMPLATE = ROOT / "config" / "nginx" / "tally.conf.template"
# Under config/respawn.py's STOP_GRACE_SECONDS (8), so the whole stop stays within 10 s.
STOP_GRACE_SECONDS = 6.0
LOOPBACK = "127.0.0.1"
# granian's workers finish their requests in flight within this on a stop (then they are killed).
HTTP_GRACEFUL_SECONDS = 5


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host.strip("[]"), port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def http_workers() -> tuple[int, int]:
    """The HTTP server's processes and threads in each: 2 x 4 measured best on two cores (bench/http_load.py)."""
    processes = int(os.environ.get("WEB_CONCURRENCY") or 2)
    threads = int(os.environ.get("WEB_THREADS") or 4)
    return max(1, processes), max(1, threads)


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def http_command(host: str, port: int) -> list[str]:
    processes, threads = http_workers()
    return [
        _bin("granian"),
        "--interface", "wsgi",
        "--host", host.strip("[]"),
        "--port", str(port),
        "--workers", str(processes),
        "--blocking-threads", str(threads),
        # HTTP/1.1 only: nginx speaks it to its upstreams, and /ws/ is daphne's.
        "--http", "1",
        "--no-ws",
        "--workers-kill-timeout", str(HTTP_GRACEFUL_SECONDS),
        # Its own errors only: Django writes the one request line (config/middleware.py).
        "--log-level", "warning",
        "config.wsgi:application",
    ]  # fmt: skip


def free_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def daphne_command(*bind: str) -> list[str]:
    return [
        _bin("daphne"),
        *bind,
        # Sockets still open at shutdown are cancelled after this, not Daphne's 10 s.
        "--application-close-timeout", "2",
        "config.asgi:application",
    ]  # fmt: skip


def nginx_binary() -> str | None:
    # /usr/sbin is not on every user's PATH.
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )


def render_site(*, listen_on: str, http_upstream: str, ws_upstream: str, access_log: str = "off") -> str:
    """The shared template with this run's addresses; nginx's own $variables are left alone.
    No access log by default: Django writes one line per request (config/middleware.py)."""
    return string.Template(NGINX_TEMPLATE.read_text()).safe_substitute(
        TALLY_LISTEN=listen_on,
        TALLY_HTTP_UPSTREAM=http_upstream,
        TALLY_WS_UPSTREAM=ws_upstream,
        TALLY_ACCESS_LOG=access_log,
    )


def nginx_address(host: str, port: int) -> str:
    return f"[{host.strip('[]')}]:{port}" if ":" in host else f"{host}:{port}"


def write_nginx_config(runtime: Path, site: str) -> Path:
    """A whole nginx.conf for a foreground nginx owned by this process: its pid,
    temp files and error log under ``runtime`` or on stderr, never in /var."""
    (runtime / "tally.conf").write_text(site)
    # As root, nginx's workers drop to an unprivileged user; Debian's packages run them as www-data.
    user = "user www-data;" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {runtime / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = runtime / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
{user}
pid {runtime / "nginx.pid"};
error_log stderr warn;
# Open WebSockets do not hold a stop up: workers close them after this.
worker_shutdown_timeout 3s;
events {{
    worker_connections 8192;
}}
http {{
{temp_paths}
    include {runtime / "tally.conf"};
}}
"""
    )
    return conf


def nginx_command(nginx: str, conf: Path) -> list[str]:
    return [nginx, "-e", "stderr", "-p", str(conf.parent), "-c", str(conf)]


def _with_loopback_trusted(env: dict) -> dict:
    trusted = [entry.strip() for entry in env.get("TRUSTED_PROXIES", "").split(",") if entry.strip()]
    if LOOPBACK not in trusted:
        trusted.append(LOOPBACK)
    return {**env, "TRUSTED_PROXIES": ",".join(trusted)}


def _descendants(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        tasks = Path(f"/proc/{stack.pop()}/task")
        try:
            for task in tasks.iterdir():
                children = [int(child) for child in (task / "children").read_text().split()]
                found += children
                stack += children
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Orphaned grandchildren come here instead of init: an HTTP server's master that kills a worker
    outliving its graceful timeout may exit without waiting for it, and nginx's or daphne's
    leftovers would go the same way; as their reaper this process can wait for them (reap_orphans),
    so its exit means the whole tree is gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: orphans go to init as before
        pass


def reap_orphans(deadline: float) -> None:
    """SIGKILL at ``deadline`` and wait for every process adopted here (become_subreaper)."""
    while orphans := _descendants(os.getpid()):
        if time.monotonic() >= deadline:
            for pid in orphans:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for pid in orphans:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:  # a grandchild still under its own parent, or reaped already
                pass
        time.sleep(0.05)  # a poll interval for exits, not a synchronisation sleep


class Children:
    """The processes of one web role, started, stopped and reaped together."""

    def __init__(self):
        self.running: list[tuple[subprocess.Popen, int]] = []  # (process, its stop signal)

    def start(self, command: list[str], *, stop_signal=signal.SIGTERM, **popen) -> subprocess.Popen:
        process = subprocess.Popen(command, **popen)
        self.running.append((process, stop_signal))
        return process

    def alive(self) -> bool:
        return any(process.poll() is None for process, _ in self.running)

    def signal_all(self) -> None:
        for process, stop_signal in self.running:
            if process.poll() is None:
                process.send_signal(stop_signal)

    def kill_leftovers(self) -> None:
        """SIGKILL children that outlived the grace, their own workers included
        (an nginx or granian worker would otherwise keep the port)."""
        for process, _ in self.running:
            if process.poll() is None:
                for pid in [*_descendants(process.pid), process.pid]:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass


def supervise(children: Children) -> int:
    told_to_stop = False
    stop_deadline = None

    def begin_stop():
        nonlocal stop_deadline
        if stop_deadline is None:
            stop_deadline = time.monotonic() + STOP_GRACE_SECONDS
            children.signal_all()

    def on_signal(_signum, _frame):
        nonlocal told_to_stop
        told_to_stop = True
        begin_stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    first_exit = None
    while children.alive():
        if stop_deadline is not None and time.monotonic() >= stop_deadline:
            children.kill_leftovers()
        for process, _ in children.running:
            code = process.poll()
            if code is not None and first_exit is None:
                first_exit = code
                begin_stop()  # one ended: stop the rest, so the supervisor restarts a whole set
        time.sleep(0.1)  # a poll interval for child exits, not a synchronisation sleep
    reap_orphans(stop_deadline if stop_deadline is not None else time.monotonic())
    if told_to_stop:
        return 0
    return first_exit if first_exit and first_exit > 0 else 1


def serve_front(host: str, port: int) -> int:
    become_subreaper()
    nginx = nginx_binary()
    if nginx is None:
        print("config.serve: nginx is not installed (make nginx, or apt-get install nginx)", file=sys.stderr)
        return 127
    runtime = Path(tempfile.mkdtemp(prefix="tally-web-"))
    runtime.chmod(0o711)  # nginx's workers (www-data) reach their temp directories inside
    http_port, ws_sock = free_loopback_port(), listen(LOOPBACK, 0)
    site = render_site(
        listen_on=nginx_address(host, port),
        http_upstream=f"{LOOPBACK}:{http_port}",
        ws_upstream=f"{LOOPBACK}:{ws_sock.getsockname()[1]}",
    )
    conf = write_nginx_config(runtime, site)
    env = _with_loopback_trusted(dict(os.environ))
    children = Children()
    try:
        children.start(http_command(LOOPBACK, http_port), env=env)
        children.start(daphne_command("--fd", str(ws_sock.fileno())), pass_fds=(ws_sock.fileno(),), env=env)
        # daphne's socket already listens; until granian's does, nginx answers its 503 in the error
        # shape (bench/servers.py and the e2e servers wait for /health/ to answer 200 first).
        children.start(nginx_command(nginx, conf), stop_signal=signal.SIGQUIT)
        processes, threads = http_workers()
        print(
            f"serving http://{nginx_address(host, port)}/ : nginx, /ws/ to daphne, the rest to granian "
            f"({processes} processes x {threads} threads)",
            flush=True,
        )
        return supervise(children)
    finally:
        children.kill_leftovers()
        ws_sock.close()
        shutil.rmtree(runtime, ignore_errors=True)


def serve_one(role: str, host: str, port: int) -> int:
    become_subreaper()
    children = Children()
    try:
        if role == "http":
            children.start(http_command(host, port))
        else:
            children.start(daphne_command("-b", host, "-p", str(port)))
        print(f"serving {role} on {nginx_address(host, port)}", flush=True)
        return supervise(children)
    finally:
        children.kill_leftovers()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    role = argv[0] if argv else "front"
    if role not in ("front", "http", "ws"):
        print("usage: python -m config.serve [http|ws]", file=sys.stderr)
        return 2
    host = os.environ.get("WEB_HOST", "127.0.0.1")
    port = int(os.environ.get("WEB_PORT", "8000"))
    return serve_front(host, port) if role == "front" else serve_one(role, host, port)


if __name__ == "__main__":
    sys.exit(main())
