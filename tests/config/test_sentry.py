"""Sentry is opt-in: with SENTRY_DSN pointing at a tiny local HTTP endpoint, an
error raised in a view and one raised in a task each arrive there as an event,
tagged with the configured environment and release, without the user's PII."""

import gzip
import json
import queue
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.urls import path

from config.celery import app
from config.sentry import init_sentry


class SentryEndpoint:
    """Accepts envelopes like sentry.io would and hands their events to the test."""

    def __init__(self):
        self.events: queue.Queue = queue.Queue()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                encoding = self.headers.get("Content-Encoding", "")
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                for event in _events_in(body):
                    endpoint.events.put(event)
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server.server_address[1]}/42"

    def next_event(self) -> dict:
        sentry_sdk.flush(timeout=10)
        return self.events.get(timeout=10)


def _events_in(envelope: bytes):
    lines = envelope.split(b"\n")
    # An envelope: a header line, then (item header, payload) pairs.
    for index in range(1, len(lines) - 1):
        try:
            header = json.loads(lines[index])
        except ValueError:
            continue
        if isinstance(header, dict) and header.get("type") == "event":
            yield json.loads(lines[index + 1])


@pytest.fixture
def sentry():
    endpoint = SentryEndpoint()
    endpoint.thread.start()
    assert init_sentry(
        endpoint.dsn, environment="ci", release="tally@test", traces_sample_rate=0.0, send_default_pii=False
    )
    yield endpoint
    sentry_sdk.get_client().close()
    sentry_sdk.init(dsn=None)
    endpoint.server.shutdown()
    endpoint.server.server_close()


def broken_view(request):
    raise RuntimeError("the view broke")


urlpatterns = [path("broken/", broken_view)]


@app.task(name="tests.config.broken_task")
def broken_task():
    raise LookupError("the task broke")


def test_no_dsn_means_no_sentry():
    assert init_sentry("", environment="x", release=None, traces_sample_rate=0.0, send_default_pii=False) is False


@pytest.mark.urls(__name__)
def test_an_error_in_a_view_reaches_sentry(sentry, client, user):
    client.force_login(user)
    client.raise_request_exception = False
    response = client.get("/broken/?q=secret")

    assert response.status_code == 500
    event = sentry.next_event()
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("RuntimeError", "the view broke")
    assert event["environment"] == "ci" and event["release"] == "tally@test"
    # PII off: no user, no e-mail, no session cookie value.
    assert "user" not in event and user.email not in json.dumps(event)
    assert client.cookies["sessionid"].value not in json.dumps(event)


def test_an_error_in_a_task_reaches_sentry(sentry, db):
    result = broken_task.apply()

    assert result.failed()
    event = sentry.next_event()
    [exception] = event["exception"]["values"]
    assert (exception["type"], exception["value"]) == ("LookupError", "the task broke")
    assert event["extra"]["celery-job"]["task_name"] == "tests.config.broken_task"
