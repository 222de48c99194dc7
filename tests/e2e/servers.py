"""Real servers for end-to-end tests: daphne, the whole web front of `make run`
(config/serve.py: nginx, granian, daphne) and a throwaway redis-server, as
subprocesses on free ports, against the test database and test Redis."""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(check, what: str, timeout: float = 30.0):
    """Poll a readiness check (not a sleep standing in for synchronisation)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up in {timeout} s: {last!r}")


def test_database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


class Daphne:
    name = "daphne"

    def __init__(self, *, redis_url: str, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.log = tempfile.NamedTemporaryFile("w+", suffix=f".{self.name}.log", delete=False)
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": redis_url,
            "DATABASE_POOL_MIN": "0",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            **self.own_env(),
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(self.command(), cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        _wait_until(self._healthy, self.name)

    def own_env(self) -> dict:
        return {}

    def command(self) -> list[str]:
        # daphne alone on a port, access log included (config/serve.py hands it a socket instead).
        return [
            str(Path(sys.executable).with_name("daphne")),
            "-b",
            "127.0.0.1",
            "-p",
            str(self.port),
            "config.asgi:application",
        ]

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited:\n" + self.output())
        with urllib.request.urlopen(self.url + "/health/", timeout=1) as response:
            return response.status == 200

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@contextmanager
def daphne(*, redis_url: str, extra_env: dict | None = None):
    server = Daphne(redis_url=redis_url, extra_env=extra_env)
    try:
        yield server
    finally:
        server.stop()
        Path(server.log.name).unlink(missing_ok=True)


def nginx_installed() -> bool:
    from config.serve import nginx_binary

    if nginx_binary() is None:
        # make test installs it first (make nginx); this covers a bare `pytest` run on a Debian machine.
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx"],
            check=False,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive", "RUNLEVEL": "1"},
        )
    return nginx_binary() is not None


class Front(Daphne):
    """What `make run` serves (the Procfile's web line without its respawner):
    nginx on the port, /ws/ to daphne, everything else to granian."""

    name = "front"

    def __init__(self, *, redis_url: str, extra_env: dict | None = None):
        if not nginx_installed():
            raise RuntimeError("Debian's nginx is required for the web front: apt-get install -y nginx")
        super().__init__(redis_url=redis_url, extra_env=extra_env)

    def own_env(self) -> dict:
        # Two workers of two threads: the routing is under test here, not the throughput.
        return {"WEB_HOST": "127.0.0.1", "WEB_PORT": str(self.port), "WEB_CONCURRENCY": "2", "WEB_THREADS": "2"}

    def command(self) -> list[str]:
        return [sys.executable, "-m", "config.serve"]


@contextmanager
def front(*, redis_url: str, extra_env: dict | None = None):
    server = Front(redis_url=redis_url, extra_env=extra_env)
    try:
        yield server
    finally:
        server.stop()
        Path(server.log.name).unlink(missing_ok=True)


class RedisServer:
    """A throwaway redis-server on its own port (never the shared one on 6379)."""

    def __init__(self):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        _wait_until(lambda: redis.Redis.from_url(self.url).ping(), "redis-server")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.process = None
