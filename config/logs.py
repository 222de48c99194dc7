"""Structured logs: one JSON object a line (LOG_FORMAT=json) or a readable
console line (the default), for web, worker and beat alike.

Every record, from structlog or the standard library, carries timestamp,
level, logger and event, plus whatever is bound for the current request or
task (request_id, user_id, task_id). A request writes one ``request`` line
(config.middleware.RequestLogMiddleware); a task writes ``task_started`` and
``task_finished``, with the request id of the request that queued it, which
travels in the message headers."""

import logging
import re
import time
import uuid

import structlog
from celery import signals as celery_signals

# The message header that carries the queuing request's log context to the worker.
LOG_CONTEXT_HEADER = "tally_log_context"
_PROPAGATED_KEYS = ("request_id", "user_id")

# Browsers cannot set headers on a WebSocket, so its token or ticket travels in
# the query string; whoever logs a path or URI must not log those values.
SECRET_PARAMS = ("token", "ticket", "access", "refresh")
_SECRET_QUERY = re.compile(r"(?i)([?&](?:{})=)[^&\s\"']*".format("|".join(SECRET_PARAMS)))
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _SECRET_QUERY.sub(r"\1" + REDACTED, text)


def redact_event(_logger, _method, event_dict: dict) -> dict:
    """structlog processor: redacts every string value of the event."""
    for key, value in event_dict.items():
        if isinstance(value, str) and "=" in value:
            event_dict[key] = redact(value)
    return event_dict


def drop_request_objects(_logger, _method, event_dict: dict) -> dict:
    """django.request passes the HttpRequest as an extra; its repr has the query string."""
    if event_dict.get("request") is not None and not isinstance(event_dict["request"], str):
        del event_dict["request"]
    return event_dict


_LEADING_KEYS = ("timestamp", "level", "logger", "event")


def leading_keys_first(_logger, _method, event_dict: dict) -> dict:
    """timestamp, level, logger and event open every line; the rest follow."""
    ordered = {key: event_dict.pop(key) for key in _LEADING_KEYS if key in event_dict}
    ordered.update(event_dict)
    return ordered


class RedactTokensFilter(logging.Filter):
    """For handlers that format plain records (the structured formatter redacts by itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, dict):  # a structlog event, redacted by redact_event
            return True
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.ExtraAdder(),
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
]


def logging_config(*, log_format: str, level: str) -> dict:
    """The LOGGING dict; also configures structlog to hand its events to it."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *_SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
        final = [structlog.processors.format_exc_info, renderer]
    else:
        final = [structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "foreign_pre_chain": _SHARED_PROCESSORS,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    drop_request_objects,
                    redact_event,
                    leading_keys_first,
                    *final,
                ],
            }
        },
        # Never log a WebSocket token or ticket (?token=, ?ticket=), whoever logs the path.
        "filters": {"redact_tokens": {"()": "config.logs.RedactTokensFilter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "structured", "filters": ["redact_tokens"]}
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The request line (RequestLogMiddleware) reports every 4xx; Django's own
            # "Not Found: /x" warning would report it a second time. 5xx keep their traceback.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "ERROR"},
        },
    }


def new_request_id() -> str:
    return uuid.uuid4().hex


# Celery: the queuing side copies the log context into the message; the worker binds it.


@celery_signals.before_task_publish.connect
def _attach_log_context(headers=None, **_kwargs):
    context = structlog.contextvars.get_contextvars()
    carried = {key: context[key] for key in _PROPAGATED_KEYS if context.get(key) is not None}
    if headers is not None and carried:
        headers[LOG_CONTEXT_HEADER] = carried


@celery_signals.task_prerun.connect
def _bind_task_context(task_id=None, task=None, **_kwargs):
    carried = getattr(task.request, LOG_CONTEXT_HEADER, None) or {}
    # An eager task runs inside its caller and keeps the caller's context; the
    # tokens put it back afterwards.
    tokens = structlog.contextvars.bind_contextvars(task_id=task_id, task=task.name, **carried)
    task.request._tally_log_tokens = tokens
    task.request._tally_started = time.perf_counter()
    structlog.get_logger("tally.tasks").info("task_started")


@celery_signals.task_postrun.connect
def _unbind_task_context(task=None, state=None, **_kwargs):
    started = getattr(task.request, "_tally_started", None)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    structlog.get_logger("tally.tasks").info("task_finished", state=state, duration_ms=duration_ms)
    tokens = getattr(task.request, "_tally_log_tokens", None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)
