"""The servers the benchmarks run against, as subprocesses on a free port:

- ``front``: the production server line of `make run` (the Procfile's web line
  without its respawner): ``python -m config.serve``, nginx on the port with
  /ws/ to daphne and the rest to granian's WSGI workers.
- ``daphne``: one daphne process serving everything, the baseline.

Both in production mode (DEBUG off: DEBUG's query log alone costs several ms a
request) and with request logging at WARNING, as a deployment would log."""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("front", "daphne")
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-server-not-a-real-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    "SECURE_SSL_REDIRECT": "False",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kind: str, *, extra_env: dict | None = None, debug: bool = False):
        if kind not in KINDS:
            raise ValueError(f"unknown server {kind!r}; one of {KINDS}")
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=f".{kind}.log", delete=False)
        if kind == "front":
            command = [sys.executable, "-m", "config.serve"]
        else:
            command = [
                str(Path(sys.executable).with_name("daphne")),
                "-v",
                "0",
                "-b",
                "127.0.0.1",
                "-p",
                str(self.port),
            ]
            command.append("config.asgi:application")
        env = {
            **os.environ,
            **({} if debug else PRODUCTION_ENV),
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(self.port),
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:  # readiness poll, not a synchronisation sleep
            if self.process.poll() is not None:
                raise RuntimeError(f"{kind} exited:\n" + Path(self.log.name).read_text())
            try:
                with urllib.request.urlopen(self.url + "/health/", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} did not start:\n" + Path(self.log.name).read_text()) from None
                time.sleep(0.1)

    def stop(self, timeout: float = 15) -> dict:
        """SIGTERM; SIGKILL after ``timeout``. How long it took is a figure too."""
        started = time.monotonic()
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
            killed = False
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            killed = True
        Path(self.log.name).unlink(missing_ok=True)
        return {"stop_s": round(time.monotonic() - started, 2), "killed_after_timeout": killed}
