"""Under a real daphne every error under /api/ is JSON in the error shape, a
malformed multipart body included (Twisted used to answer it with an empty 400)."""

import json
import urllib.error
import urllib.request

import pytest
from django.conf import settings as django_settings

from tests.e2e.servers import daphne

pytestmark = pytest.mark.django_db(transaction=True)

BROKEN_PART = b'--zz\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\nabc'


def _post(url, body, content_type):
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


def test_malformed_multipart_and_oversized_bodies_are_json_under_daphne():
    with daphne(redis_url=django_settings.REDIS_URL) as server:
        no_boundary = _post(f"{server.url}/api/v1/auth/login", BROKEN_PART, "multipart/form-data")
        empty_boundary = _post(f"{server.url}/api/v1/auth/login", BROKEN_PART, "multipart/form-data; boundary=")
        too_large = _post(f"{server.url}/api/v1/auth/login", b"{" * (3 * 1024 * 1024), "application/json")
        not_found = _post(f"{server.url}/api/v1/transactions/not-a-uuid", b"{}", "application/json")

    for status, content_type, body in (no_boundary, empty_boundary):
        assert status == 400
        assert content_type == "application/json"
        assert json.loads(body)["errors"][0]["code"] == "parse_error"
    assert too_large[0] == 413 and json.loads(too_large[2])["errors"][0]["code"] == "too_large"
    assert not_found[0] == 404 and json.loads(not_found[2])["errors"][0]["code"] == "not_found"
