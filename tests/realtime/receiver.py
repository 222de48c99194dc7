"""A tiny webhook receiver on 127.0.0.1 for tests: records every request and
verifies its signature with the standardwebhooks library, the way an
integrator would."""

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    verified: dict = field(default_factory=dict)  # secret -> parsed payload or the error text


class Receiver:
    """keep_alive: answers HTTP/1.1 and keeps connections open (like most
    receivers); otherwise HTTP/1.0, one connection per request."""

    def __init__(self, keep_alive: bool = False):
        self.requests: list[Received] = []
        self.connections = 0
        self.responses: list[tuple[int, bytes, dict]] = []  # consumed in order; then `default`
        self.default = (200, b"ok", {})
        self.by_path: dict[str, tuple[int, bytes, dict]] = {}  # a path's fixed answer, before `responses`
        self.secrets: list[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1" if keep_alive else "HTTP/1.0"

            def setup(self):
                super().setup()
                with receiver._lock:
                    receiver.connections += 1

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                item = Received(self.path, headers, body)
                for secret in receiver.secrets:
                    try:
                        item.verified[secret] = Webhook(secret).verify(body, headers)
                    except WebhookVerificationError as exc:
                        item.verified[secret] = f"error: {exc}"
                with receiver._lock:
                    receiver.requests.append(item)
                    if self.path in receiver.by_path:
                        code, payload, extra = receiver.by_path[self.path]
                    else:
                        code, payload, extra = receiver.responses.pop(0) if receiver.responses else receiver.default
                self.send_response(code)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
