"""Signed POSTs to checked addresses: no redirects (http.client follows
none), short connect and read timeouts, the response body read up to 1 KB
and the rest never read.

Connections are kept alive per checked target (scheme, host, port and the
IP the SSRF check returned for this very delivery), so a host whose DNS now
points elsewhere gets a new connection to the newly checked address, never
the old socket. A batch is sent concurrently from a small thread pool: one
slow receiver does not hold up the others of the same event."""

import http.client
import os
import select
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings

from realtime.webhooks.ssrf import Target

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = "Tally-Webhooks/1.0"
# An idle connection older than this is closed rather than reused (receivers drop idle ones too).
IDLE_SECONDS = 20.0
MAX_IDLE_PER_TARGET = 8
# Errors of a reused connection the receiver closed while it was idle: sent again once on a fresh one.
_STALE_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@dataclass(frozen=True)
class SendResult:
    succeeded: bool
    response_code: int | None
    duration_ms: int
    response_body: str
    error: str


@dataclass(frozen=True)
class Request:
    target: Target
    body: bytes
    headers: dict[str, str]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked IP while the Host header names the URL's host."""

    def __init__(self, target: Target, connect_timeout: float, read_timeout: float):
        super().__init__(target.host, target.port, timeout=connect_timeout)
        self._address, self._read_timeout = target.address, read_timeout

    def _open_socket(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.settimeout(self._read_timeout)
        return sock

    def connect(self):
        self.sock = self._open_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = 443

    def connect(self):
        # SNI and certificate checks use the URL's host name, the socket the checked IP.
        self.sock = ssl.create_default_context().wrap_socket(self._open_socket(), server_hostname=self.host)


def _target_key(target: Target) -> tuple:
    return (target.scheme, target.host, target.port, target.address)


class ConnectionPool:
    """Idle keep-alive connections per checked target, for one process."""

    def __init__(self):
        self._idle: dict[tuple, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _forked(self) -> None:
        # A forked worker must not share its parent's sockets.
        if self._pid != os.getpid():
            self._idle, self._lock, self._pid = {}, threading.Lock(), os.getpid()

    def take(self, target: Target) -> http.client.HTTPConnection | None:
        self._forked()
        now = time.monotonic()
        while True:
            with self._lock:
                idle = self._idle.get(_target_key(target))
                if not idle:
                    return None
                since, conn = idle.pop()
            if now - since < IDLE_SECONDS and _still_open(conn):
                return conn
            conn.close()

    def give(self, target: Target, conn: http.client.HTTPConnection) -> None:
        self._forked()
        with self._lock:
            idle = self._idle.setdefault(_target_key(target), [])
            if len(idle) < MAX_IDLE_PER_TARGET:
                idle.append((time.monotonic(), conn))
                return
        conn.close()

    def clear(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for _, conn in connections:
                conn.close()


def _still_open(conn: http.client.HTTPConnection) -> bool:
    """An idle socket that is readable was closed by the peer (or sent junk): not reusable."""
    if conn.sock is None:
        return False
    try:
        readable, _, _ = select.select([conn.sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


POOL = ConnectionPool()
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_executor_pid = 0


def _pool_executor() -> ThreadPoolExecutor:
    global _executor, _executor_pid
    with _executor_lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(settings.WEBHOOK_SEND_CONCURRENCY, thread_name_prefix="webhook-send")
            _executor_pid = os.getpid()
        return _executor


def _new_connection(target: Target) -> http.client.HTTPConnection:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    return connection_class(target, settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT)


def _exchange(conn, request: Request) -> tuple[int, str, bool]:
    """(status, first 1 KB of the body, whether the connection can be reused)."""
    conn.request("POST", request.target.path, body=request.body, headers={"User-Agent": USER_AGENT, **request.headers})
    response = conn.getresponse()
    text = response.read(RESPONSE_BODY_LIMIT).decode("utf-8", errors="replace")
    # Reusable only when the whole body was read and the receiver keeps the connection.
    return response.status, text, response.isclosed() and not response.will_close


def send(request: Request, pool: ConnectionPool | None = POOL) -> SendResult:
    started = time.perf_counter()
    code, text, error = None, "", ""
    conn = pool.take(request.target) if pool else None
    reused = conn is not None
    while True:
        conn = conn or _new_connection(request.target)
        try:
            code, text, reusable = _exchange(conn, request)
        except _STALE_ERRORS as exc:
            conn.close()
            conn = None
            if reused:  # the receiver closed it while idle; same webhook-id on a fresh connection
                reused = False
                continue
            error = f"{type(exc).__name__}: {exc}"[:500]
        except (OSError, http.client.HTTPException, ValueError) as exc:
            conn.close()
            conn = None
            error = f"{type(exc).__name__}: {exc}"[:500]
        else:
            if reusable and pool:
                pool.give(request.target, conn)
            else:
                conn.close()
        break
    duration_ms = round((time.perf_counter() - started) * 1000)
    succeeded = code is not None and 200 <= code < 300
    if code is not None and not succeeded:
        error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    return SendResult(succeeded, code, duration_ms, text, error)


def concurrently(attempt, items: list) -> list[SendResult]:
    """attempt(item) for every item, from the send pool; results in the items' order."""
    if len(items) <= 1:
        return [attempt(item) for item in items]
    return list(_pool_executor().map(attempt, items))
