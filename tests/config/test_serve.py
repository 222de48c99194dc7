"""config/serve.py: N daphne processes on one socket, stopped together."""

import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.servers import _wait_until, free_port
from tests.e2e.servers import test_database_url as database_url

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def start_serve(settings, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DATABASE_POOL_MIN": "0",
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
        "WEB_CONCURRENCY": "2",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "config.serve"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait_until(lambda: healthy(port), "config.serve")
    except Exception:
        server.kill()
        raise
    return server


def healthy(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1) as response:
        return response.status == 200


def test_serve_runs_n_daphnes_on_one_port_and_stops_them_together(settings):
    port = free_port()
    server = start_serve(settings, port)
    try:
        daphnes = children_of(server.pid)
        assert len(daphnes) == 2
        # Every request is answered, whichever process accepts it.
        assert all(healthy(port) for _ in range(20))

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in daphnes)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_a_dead_daphne_stops_the_set_for_the_supervisor_to_restart(settings):
    server = start_serve(settings, free_port())
    try:
        first, second = children_of(server.pid)
        os.kill(first, signal.SIGKILL)
        assert server.wait(timeout=30) != 0
        assert not Path(f"/proc/{second}").exists()  # stopped and reaped with the set
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
