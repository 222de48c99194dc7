"""Keep WebSocket credentials out of logs, and daphne's access log in the structured log.

Browsers cannot set headers on a WebSocket, so the token or ticket travels in
the query string (``/ws/?ticket=...``). daphne's access log writes the HTTP
request URI, query string included, straight to stdout (not through
``logging``). ``patch_daphne_access_log`` replaces that writer: HTTP requests
are already logged once, with request id, user and duration, by
config.middleware.RequestLogMiddleware, so daphne's line for them is dropped
(a 4xx would otherwise be logged twice); WebSocket connects and disconnects go
through ``logging`` with the path only, never the query string. The
redaction itself lives in config.logs and covers every handler."""

import logging

from config.logs import REDACTED, SECRET_PARAMS, RedactTokensFilter, redact

__all__ = ["REDACTED", "SECRET_PARAMS", "RedactTokensFilter", "patch_daphne_access_log", "redact"]

access_logger = logging.getLogger("daphne.access")

_WEBSOCKET_EVENTS = {
    "connecting": "websocket_connecting",
    "connected": "websocket_connected",
    "rejected": "websocket_rejected",
    "disconnected": "websocket_disconnected",
}


def log_access(protocol: str, action: str, details: dict) -> None:
    if protocol != "websocket" or action not in _WEBSOCKET_EVENTS:
        return
    path = str(details.get("path") or "").split("?", 1)[0]
    client = details.get("client")
    access_logger.info(_WEBSOCKET_EVENTS[action], extra={"path": path, "client": str(client) if client else None})


def patch_daphne_access_log() -> None:
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # pragma: no cover - daphne is a pinned dependency
        return
    if getattr(AccessLogGenerator, "_tally_redacts", False):
        return

    def __call__(self, protocol, action, details):  # noqa: N807
        log_access(protocol, action, details)

    AccessLogGenerator.__call__ = __call__
    AccessLogGenerator._tally_redacts = True
