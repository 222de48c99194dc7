"""Every answer under /api/ is JSON in the error shape, in DEBUG and production alike."""

import json
import uuid

import pytest
from django.test import AsyncClient, Client
from django.urls import clear_url_caches, path

import config.urls

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[False, True], ids=["production", "debug"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def client(auth_client, debug):
    auth_client.raise_request_exception = False
    return auth_client


def assert_error_shape(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["type"] == ("server_error" if status >= 500 else "client_error")
    assert [error["code"] for error in body["errors"]] == [code]
    assert all(set(error) == {"code", "detail", "attr"} for error in body["errors"])


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/nope",
        "/api/nope",
        "/api/v1/transactions/not-a-uuid",
        "/api/v1/merchants/abc",
        "/api/v1/budgets/abc/history",
        "/api/v1/transactions/6f1c2a9e-3b4d-4c5e-8f70-1a2b3c4d5e6f/nope",
    ],
)
def test_unknown_urls_and_non_uuid_ids_are_a_json_404(client, url):
    response = client.get(url)

    assert_error_shape(response, 404, "not_found")
    assert len(response.content) < 500  # not DEBUG's page listing every route


def test_unknown_url_is_a_json_404_without_authentication(debug):
    response = Client(raise_request_exception=False).get("/api/v1/nope")

    assert_error_shape(response, 404, "not_found")


def test_another_objects_id_is_still_a_json_404(client):
    assert_error_shape(client.get(f"/api/v1/transactions/{uuid.uuid4()}"), 404, "not_found")


def test_method_not_allowed_is_json_with_allow(client):
    response = client.put("/api/v1/budgets/status")

    assert_error_shape(response, 405, "method_not_allowed")
    assert "GET" in response["Allow"]


def test_unsupported_media_type_is_json(client):
    assert_error_shape(
        client.post("/api/v1/transactions", "x", content_type="text/plain"), 415, "unsupported_media_type"
    )


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"garbage"),
        ("multipart/form-data; boundary=", b"--\r\n"),
        ("multipart/form-data; boundary=zz", b'--zz\r\nContent-Disposition: form-data; name="file"'),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/transactions/import", "/api/v1/imports"])
def test_malformed_multipart_is_a_json_400(client, url, content_type, body):
    response = client.post(url, body, content_type=content_type)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"]


async def test_errors_are_json_under_asgi_too(debug, db):
    client = AsyncClient(raise_request_exception=False)

    not_found = await client.get("/api/v1/transactions/not-a-uuid")
    too_large = await client.post("/api/v1/auth/login", b"{" * (3 * 1024 * 1024), content_type="application/json")

    assert_error_shape(not_found, 404, "not_found")
    assert_error_shape(too_large, 413, "too_large")


def test_a_crash_outside_drf_is_a_json_500_under_api(settings, debug, monkeypatch):
    def boom(request):
        raise RuntimeError("boom")

    # A view that is not DRF's: its exception reaches Django's handler500 (or DEBUG's page).
    monkeypatch.setattr(config.urls, "urlpatterns", [path("api/v1/boom", boom), *config.urls.urlpatterns])
    clear_url_caches()
    try:
        response = Client(raise_request_exception=False).get("/api/v1/boom")
    finally:
        clear_url_caches()

    assert_error_shape(response, 500, "error")
    assert b"boom" not in response.content


def test_pages_outside_api_keep_django_html(debug, db):
    response = Client(raise_request_exception=False).get("/nope-not-api")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


async def test_a_query_string_that_is_not_utf8_is_a_json_400_under_asgi(db):
    from config.asgi import application

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/api/v1/transactions", "raw_path": b"/api/v1/transactions", "query_string": b"q=\xff",
        "headers": [(b"host", b"testserver")], "client": ("127.0.0.1", 5000), "server": ("testserver", 80),
    }  # fmt: skip
    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    await application(scope, receive, send)

    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert start["status"] == 400
    assert (b"Content-Type", b"application/json") in start["headers"]
    assert json.loads(body)["errors"][0]["code"] == "bad_request"
