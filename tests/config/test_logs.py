"""Structured logs: the request line (request id, user, method, path without the
query string, status, duration), X-Request-ID from trusted proxies only, one line
per 4xx, redaction, and a task carrying the id of the request that queued it."""

import io
import json
import logging
import threading

import pytest
import structlog
from celery.contrib.testing.worker import start_worker
from django.urls import path

from config.celery import app
from config.logs import logging_config
from workers.routing import QUEUES


class JsonLines(logging.Handler):
    """The configured JSON formatter, on a handler of the test's own."""

    def __init__(self):
        super().__init__()
        formatter_spec = dict(logging_config(log_format="json", level="INFO")["formatters"]["structured"])
        factory = formatter_spec.pop("()")
        self.setFormatter(factory(**formatter_spec))
        self.stream = io.StringIO()
        self.seen = threading.Condition()

    def emit(self, record):
        line = self.format(record)
        with self.seen:
            self.stream.write(line + "\n")
            self.seen.notify_all()

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def text(self) -> str:
        return self.stream.getvalue()

    def wait_for(self, predicate, timeout=20) -> dict:
        with self.seen:
            found = self.seen.wait_for(lambda: next((x for x in self.lines() if predicate(x)), None), timeout)
        assert found, self.text()
        return found


@pytest.fixture
def json_log():
    handler = JsonLines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)
    structlog.contextvars.clear_contextvars()


def _request_lines(json_log):
    return [line for line in json_log.lines() if line["event"] == "request"]


def test_a_request_writes_one_json_line_with_id_user_path_status_and_duration(auth_client, user, json_log):
    response = auth_client.get("/api/v1/transactions?search=my+secret+search")

    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    [line] = _request_lines(json_log)
    assert line["request_id"] == request_id
    assert line["user_id"] == str(user.pk)
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/transactions", 200)
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "info" and line["logger"] == "tally.request" and line["timestamp"].endswith("Z")
    assert "secret" not in json_log.text()


def test_a_client_cannot_choose_its_request_id(api_client, settings, json_log):
    settings.TRUSTED_PROXIES = ["10.9.9.9"]
    response = api_client.get("/health/", HTTP_X_REQUEST_ID="chosen-by-client")

    assert response["X-Request-ID"] != "chosen-by-client"
    assert _request_lines(json_log)[0]["request_id"] == response["X-Request-ID"]


def test_a_trusted_proxys_request_id_is_kept(api_client, settings, json_log):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the test client's REMOTE_ADDR
    response = api_client.get("/health/", HTTP_X_REQUEST_ID="lb-4f2a-77")
    garbage = api_client.get("/health/", HTTP_X_REQUEST_ID='no spaces or "quotes" allowed')

    assert response["X-Request-ID"] == "lb-4f2a-77"
    assert garbage["X-Request-ID"] != 'no spaces or "quotes" allowed'
    assert [line["request_id"] for line in _request_lines(json_log)] == ["lb-4f2a-77", garbage["X-Request-ID"]]


def test_a_4xx_is_logged_once_as_a_warning(auth_client, json_log):
    response = auth_client.get("/api/v1/no-such-thing?q=1")

    assert response.status_code == 404
    mentions = [line for line in json_log.lines() if "/api/v1/no-such-thing" in json.dumps(line)]
    assert len(mentions) == 1, mentions
    assert mentions[0]["event"] == "request" and mentions[0]["level"] == "warning" and mentions[0]["status"] == 404


def broken_view(request):
    raise RuntimeError("broken on purpose")


urlpatterns = [path("broken/", broken_view)]


@pytest.mark.urls(__name__)
def test_a_500_keeps_its_traceback_and_never_logs_the_query_string(client, json_log):
    client.raise_request_exception = False
    response = client.get("/broken/?search=my+secret+search")

    assert response.status_code == 500
    [failure] = [line for line in json_log.lines() if line["logger"] == "django.request"]
    assert failure["level"] == "error" and "RuntimeError: broken on purpose" in failure["exception"]
    assert failure["request_id"] == response["X-Request-ID"]
    [line] = _request_lines(json_log)
    assert (line["path"], line["status"], line["level"]) == ("/broken/", 500, "error")
    assert "secret" not in json_log.text()


def test_tokens_and_tickets_are_redacted_in_json_lines(json_log):
    logging.getLogger("django.channels.server").info("HTTP GET %s", "/ws/?ticket=T1ck3t")
    structlog.get_logger("tally.test").info("connect", url="/ws/?token=eyJ.secret.sig")

    assert "T1ck3t" not in json_log.text() and "eyJ.secret.sig" not in json_log.text()
    assert [line.get("url", line["event"]) for line in json_log.lines()] == [
        "HTTP GET /ws/?ticket=[redacted]",
        "/ws/?token=[redacted]",
    ]


@pytest.fixture
def live_worker(transactional_db):
    app.loader.import_default_modules()
    with start_worker(app, pool="solo", perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=10) as worker:
        yield worker


def test_a_task_logs_its_id_and_the_request_id_of_the_request_that_queued_it(live_worker, auth_client, json_log):
    # A new transaction queues its anomaly scoring once committed.
    response = auth_client.post(
        "/api/v1/transactions", {"amount": "12.34", "date": "2026-03-05", "merchant_raw": "Corner Cafe"}, format="json"
    )
    assert response.status_code == 201, response.content
    request_id = response["X-Request-ID"]

    finished = json_log.wait_for(
        lambda x: x["event"] == "task_finished" and x.get("task") == "ledger.score_transaction_anomaly"
    )
    started = next(x for x in json_log.lines() if x["event"] == "task_started" and x["task_id"] == finished["task_id"])
    assert started["request_id"] == finished["request_id"] == request_id
    assert finished["state"] == "SUCCESS" and finished["duration_ms"] >= 0
