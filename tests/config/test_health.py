import pytest

from config.redis import _client_for

pytestmark = pytest.mark.django_db


def test_health_is_ok_without_io(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_reports_each_check_with_latency(client):
    response = client.get("/ready/")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["database"]["latency_ms"] >= 0
    # no worker runs in this test; that is reported, not fatal
    assert isinstance(body["celery"]["workers"], int)


def test_ready_is_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    _client_for.cache_clear()
    response = client.get("/ready/")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True
