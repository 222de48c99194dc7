"""config/serve.py, the web line of `make run`: nginx on one port routes /ws/
to daphne and everything else to granian's WSGI workers; SIGTERM stops the
whole set within 10 s, and one dead child stops the rest for the supervisor."""

import http.client
import json
import os
import signal
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from django.db import transaction
from websockets.sync.client import connect

from accounts.services import session_start
from realtime.services import notify
from tests.accounts.factories import UserFactory
from tests.conftest import TEST_PASSWORD
from tests.e2e.servers import front

pytestmark = pytest.mark.django_db(transaction=True)
STOP_SECONDS = 10


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def descendants(pid: int) -> list[int]:
    found = []
    for child in children_of(pid):
        found += [child, *descendants(child)]
    return found


def started(pid: int) -> tuple[int, int] | None:
    """(pid, start time in ticks): a process, not a pid a later one may reuse; None once gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None if fields[0] in ("Z", "X") else (pid, int(fields[19]))


def still_running(processes: list[tuple[int, int]], deadline: float) -> list[int]:
    """Polls until every one of ``processes`` has ended (a zombie runs nothing and holds no
    socket), or the deadline passes: the pids still running then."""
    while True:
        running = [pid for pid, start in processes if started(pid) == (pid, start)]
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.05)  # a poll interval, not a synchronisation sleep


def program(pid: int) -> str:
    return Path(f"/proc/{pid}/comm").read_text().strip()  # nginx rewrites its cmdline; comm stays


def roles(server) -> dict[str, int]:
    """The three servers config.serve started, by program."""
    return {program(pid): pid for pid in children_of(server.process.pid)}


def get(url: str, token: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return response.status, response.headers, json.loads(response.read())


@contextmanager
def paused(*pids: int):
    """SIGSTOP: the process keeps its sockets but answers nothing until SIGCONT."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)


def receive_event_through(server, user) -> dict:
    token = session_start(user=user).access
    with connect(f"{server.ws_url}/ws/?token={token}", open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "connected"
        with transaction.atomic():
            sent = notify(user.pk, "transaction_update", {"n": 1})
        event = json.loads(ws.recv(timeout=10))
    assert event["id"] == sent.id
    return event


def test_the_front_routes_http_to_granian_and_websockets_to_daphne_on_one_port(settings):
    user = UserFactory()
    token = session_start(user=user).access
    with front(redis_url=settings.REDIS_URL) as server:
        servers = roles(server)
        assert set(servers) == {"nginx", "granian", "daphne"}
        granian_and_workers = [servers["granian"], *descendants(servers["granian"])]
        assert len(granian_and_workers) == 3  # the master and WEB_CONCURRENCY=2 workers

        # daphne answers nothing: HTTP is still served, so it is not daphne serving it.
        with paused(servers["daphne"]):
            status, headers, body = get(f"{server.url}/health/")
            assert (status, body) == (200, {"status": "ok"})
            assert headers["Server"] == "nginx"
            status, _, categories = get(f"{server.url}/api/v1/categories", token)
            assert status == 200 and categories

        # granian answers nothing: a real handshake through the same port still gets its event from daphne.
        with paused(*granian_and_workers):
            event = receive_event_through(server, user)
        assert event["type"] == "transaction_update" and event["data"] == {"n": 1}


def test_the_front_forwards_the_client_address_and_drops_a_forged_one(settings):
    """granian sees nginx's loopback address; config.serve trusts it, so a
    session records the client's address as nginx saw it, never a hop the
    client wrote."""
    # The test run hashes with MD5 for speed; the servers only know the project's hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = UserFactory(password=TEST_PASSWORD)
    with front(redis_url=settings.REDIS_URL) as server:
        # From 127.0.0.2 (loopback too, but not nginx's address): a client the throttles must tell apart.
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10, source_address=("127.0.0.2", 0))
        conn.request(
            "POST",
            "/api/v1/auth/login",
            body=json.dumps({"email": user.email, "password": TEST_PASSWORD}),
            headers={"Content-Type": "application/json", "X-Forwarded-For": "203.0.113.9"},
        )
        assert conn.getresponse().status == 200
        conn.close()
    assert user.sessions.get().ip == "127.0.0.2"


def test_sigterm_after_load_stops_nginx_granian_and_daphne_within_10_s(settings):
    user = UserFactory()
    token = session_start(user=user).access
    with front(redis_url=settings.REDIS_URL) as server:
        everything = [started(pid) for pid in (server.process.pid, *descendants(server.process.pid))]
        with ThreadPoolExecutor(16) as pool:
            statuses = list(pool.map(lambda _: get(f"{server.url}/api/v1/categories", token)[0], range(200)))
        assert statuses == [200] * 200
        with ExitStack() as sockets:  # open sockets do not hold the stop up
            for _ in range(5):
                sockets.enter_context(connect(f"{server.ws_url}/ws/?token={token}", open_timeout=10))
            deadline = time.monotonic() + STOP_SECONDS
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(timeout=STOP_SECONDS) == 0
        # config.serve reaps what it started, adopted orphans included (become_subreaper).
        assert still_running([p for p in everything if p], deadline) == []
        with socket.socket() as probe:  # nobody listens on the port any more
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", server.port))


def test_a_dead_server_stops_the_set_for_the_supervisor_to_restart(settings):
    with front(redis_url=settings.REDIS_URL) as server:
        servers = roles(server)
        everything = [started(pid) for pid in descendants(server.process.pid)]
        deadline = time.monotonic() + STOP_SECONDS
        os.kill(servers["daphne"], signal.SIGKILL)
        assert server.process.wait(timeout=STOP_SECONDS) != 0
        assert still_running([p for p in everything if p], deadline) == []  # nginx and granian too
