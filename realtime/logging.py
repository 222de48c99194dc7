"""Keep WebSocket credentials out of logs.

Browsers cannot set headers on a WebSocket, so the token or ticket travels in
the query string (``/ws/?ticket=...``). daphne's access log writes the HTTP
request URI, query string included, straight to stdout (not through
``logging``), and ``runserver`` logs it through ``django.channels.server``.
``redact`` blanks the values; the filter covers every logging handler that uses
it, and ``patch_daphne_access_log`` covers daphne's own writer."""

import logging
import re

SECRET_PARAMS = ("token", "ticket", "access", "refresh")
_SECRET_QUERY = re.compile(r"(?i)([?&](?:{})=)[^&\s\"']*".format("|".join(SECRET_PARAMS)))
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _SECRET_QUERY.sub(r"\1" + REDACTED, text)


class RedactTokensFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def patch_daphne_access_log() -> None:
    try:
        from daphne.access import AccessLogGenerator
    except ImportError:  # pragma: no cover - daphne is a pinned dependency
        return
    if getattr(AccessLogGenerator, "_tally_redacts", False):
        return
    original = AccessLogGenerator.__call__

    def __call__(self, protocol, action, details):  # noqa: N807
        if isinstance(details.get("path"), str):
            details = {**details, "path": redact(details["path"])}
        return original(self, protocol, action, details)

    AccessLogGenerator.__call__ = __call__
    AccessLogGenerator._tally_redacts = True
