"""One signed POST to a checked address: no redirects (http.client follows
none), short connect and read timeouts, the response body read up to 1 KB
and the rest never read."""

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from django.conf import settings

from realtime.webhooks.ssrf import Target

RESPONSE_BODY_LIMIT = 1024
USER_AGENT = "Tally-Webhooks/1.0"


@dataclass(frozen=True)
class SendResult:
    succeeded: bool
    response_code: int | None
    duration_ms: int
    response_body: str
    error: str


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


def send(target: Target, *, body: bytes, headers: dict[str, str]) -> SendResult:
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = connection_class(target, settings.WEBHOOK_CONNECT_TIMEOUT, settings.WEBHOOK_READ_TIMEOUT)
    started = time.perf_counter()
    code, text, error = None, "", ""
    try:
        conn.request("POST", target.path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = conn.getresponse()
        code = response.status
        text = response.read(RESPONSE_BODY_LIMIT).decode("utf-8", errors="replace")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    finally:
        conn.close()
    duration_ms = round((time.perf_counter() - started) * 1000)
    succeeded = code is not None and 200 <= code < 300
    if code is not None and not succeeded:
        error = f"HTTP {code}" + (" (redirects are not followed)" if 300 <= code < 400 else "")
    return SendResult(succeeded, code, duration_ms, text, error)
