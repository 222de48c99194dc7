import datetime
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from realtime import services as realtime_services
from realtime.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from realtime.webhooks import services
from realtime.webhooks.ssrf import address_refused
from tests.realtime.receiver import Receiver

pytestmark = pytest.mark.django_db
URL = "/api/v1/webhooks"


@pytest.fixture
def private_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    return settings


@pytest.fixture
def receiver(private_allowed):
    with Receiver() as server:
        yield server


def _create(client, url, **fields):
    response = client.post(URL, {"url": url, **fields}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _tx(client, **fields):
    body = {"amount": "12.34", "currency": "USD", "date": "2024-03-05", "merchant_raw": "Corner Cafe", **fields}
    response = client.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_transaction_is_delivered_signed_and_verifies(
    auth_client, user, receiver, celery_eager, django_capture_on_commit_callbacks
):
    endpoint = _create(auth_client, receiver.url, events=["transaction.created"])
    receiver.secrets = [endpoint["secret"]]

    with django_capture_on_commit_callbacks(execute=True):
        tx = _tx(auth_client)

    (request,) = receiver.requests
    payload = request.verified[endpoint["secret"]]
    assert payload["type"] == "transaction.created"
    assert payload["data"]["id"] == tx["id"] and payload["data"]["amount"] == "12.34"
    delivery = WebhookDelivery.objects.get()
    assert request.headers["webhook-id"] == f"msg_{delivery.id.hex}"
    assert request.headers["webhook-signature"].startswith("v1,")
    assert abs(int(request.headers["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    assert request.headers["content-type"] == "application/json"
    assert delivery.status == "succeeded" and delivery.attempt == 1 and delivery.response_code == 200
    (attempt,) = delivery.attempts.all()
    assert attempt.succeeded and attempt.response_body == "ok" and attempt.duration_ms >= 0


def test_only_subscribed_events_are_delivered(auth_client, user, receiver):
    _create(auth_client, receiver.url, events=["transaction.deleted", "budget_alert"])

    realtime_services.notify_transaction_update(user_id=user.id, action="created", transaction={"id": "x"})
    realtime_services.notify_transaction_update(user_id=user.id, action="deleted", transaction={"id": "y"})

    assert list(WebhookDelivery.objects.values_list("event_type", "payload__data__id")) == [
        ("transaction.deleted", "y")
    ]


def test_an_endpoint_of_every_event_gets_the_socket_type_and_the_derived_one(auth_client, user, receiver):
    _create(auth_client, receiver.url)

    note = realtime_services.notify_import_progress(
        user_id=user.id, job_id="j", processed=3, total=3, status="completed"
    )

    types = set(WebhookDelivery.objects.filter(event_id=note.id).values_list("event_type", flat=True))
    assert types == {"import_progress", "import.committed"}


def test_a_500_is_retried_with_backoff_and_then_succeeds(auth_client, user, receiver, celery_eager):
    endpoint = _create(auth_client, receiver.url, events=["budget_alert"])
    receiver.secrets = [endpoint["secret"]]
    receiver.responses = [(500, b"boom", {})]
    before = timezone.now()

    realtime_services.notify(user.id, "budget_alert", {"category": "Groceries", "level": "warning"})
    delivery = WebhookDelivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempt == 1 and delivery.response_code == 500
    wait = delivery.next_attempt_at - before
    assert datetime.timedelta(seconds=30) <= wait <= datetime.timedelta(seconds=61)
    assert services.deliveries_queue_due() == 0  # not due yet

    with time_machine.travel(delivery.next_attempt_at + datetime.timedelta(seconds=1)):
        assert services.deliveries_queue_due() == 1  # the sweep runs it (eager)

    delivery.refresh_from_db()
    assert delivery.status == "succeeded" and delivery.attempt == 2
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]  # receivers dedupe on it
    assert isinstance(second.verified[endpoint["secret"]], dict)
    assert list(delivery.attempts.values_list("number", "response_code", "response_body")) == [
        (1, 500, "boom"),
        (2, 200, "ok"),
    ]


def test_the_backoff_spans_about_a_day():
    delays = [services.retry_delay(n) for n in range(1, 12)]
    total = sum(delays, datetime.timedelta())
    assert datetime.timedelta(hours=12) <= total <= datetime.timedelta(hours=26)
    assert all(later >= earlier / 2 for earlier, later in zip(delays, delays[1:], strict=False))


def test_a_delivery_fails_for_good_after_the_last_attempt(auth_client, user, receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    receiver.default = (503, b"down", {})
    _create(auth_client, receiver.url, events=["budget_alert"])
    realtime_services.notify(user.id, "budget_alert", {})
    delivery = WebhookDelivery.objects.get()

    services.delivery_attempt(delivery_id=delivery.id)
    services.delivery_attempt(delivery_id=delivery.id, force=True)

    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.attempt == 2 and delivery.next_attempt_at is None
    assert services.delivery_attempt(delivery_id=delivery.id, force=True) is None
    assert len(receiver.requests) == 2


def test_repeated_failures_disable_the_endpoint_and_notify_the_user(auth_client, user, receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    receiver.default = (500, b"", {})
    endpoint = _create(auth_client, receiver.url, events=["budget_alert"])

    for _ in range(3):
        realtime_services.notify(user.id, "budget_alert", {})
    for delivery in WebhookDelivery.objects.all():
        services.delivery_attempt(delivery_id=delivery.id)

    row = WebhookEndpoint.objects.get(pk=endpoint["id"])
    assert not row.enabled and row.disabled_at is not None and row.consecutive_failures == 3
    alert = Notification.objects.get(user=user, type="webhook_disabled")
    assert alert.data["endpoint_id"] == endpoint["id"]
    # Nothing more goes out; a new event creates no delivery.
    realtime_services.notify(user.id, "budget_alert", {})
    assert WebhookDelivery.objects.count() == 3 and len(receiver.requests) == 3
    # Enabling it again starts a fresh count.
    response = auth_client.patch(f"{URL}/{endpoint['id']}", {"enabled": True}, format="json")
    assert response.status_code == 200 and response.json()["consecutive_failures"] == 0


def test_a_success_resets_the_failure_count(auth_client, user, receiver, settings):
    receiver.responses = [(500, b"", {})]
    endpoint = _create(auth_client, receiver.url, events=["budget_alert"])
    realtime_services.notify(user.id, "budget_alert", {})
    delivery = WebhookDelivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.id)
    assert WebhookEndpoint.objects.get(pk=endpoint["id"]).consecutive_failures == 1

    services.delivery_attempt(delivery_id=delivery.id, force=True)

    assert WebhookEndpoint.objects.get(pk=endpoint["id"]).consecutive_failures == 0


def test_a_private_address_is_refused_when_not_allowed(auth_client, user, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    with Receiver() as server:
        response = auth_client.post(URL, {"url": server.url}, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["attr"] == "url"
        assert response.json()["errors"][0]["code"] == "address_refused"
        for url in (
            "http://localhost/x",
            "http://[::1]/x",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.8/",
        ):
            assert auth_client.post(URL, {"url": url}, format="json").status_code == 400, url
    assert not WebhookEndpoint.objects.exists()


def test_an_address_that_turns_private_is_refused_at_delivery(auth_client, user, receiver, settings):
    _create(auth_client, receiver.url, events=["budget_alert"])
    realtime_services.notify(user.id, "budget_alert", {})
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = False

    services.delivery_attempt(delivery_id=WebhookDelivery.objects.get().id)

    attempt = WebhookAttempt.objects.get()
    assert not attempt.succeeded and attempt.response_code is None and "refused" in attempt.error
    assert receiver.requests == []


@pytest.mark.parametrize(
    "address, refused",
    [
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("172.16.0.1", True),
        ("192.168.1.1", True),
        ("169.254.169.254", True),
        ("100.64.0.1", True),
        ("100.100.100.200", True),
        ("0.0.0.0", True),
        ("224.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fd00:ec2::254", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:10.0.0.1", True),
        ("64:ff9b::a00:1", True),
        ("ff02::1", True),
        ("93.184.216.34", False),
        ("2606:4700::1111", False),
    ],
)
def test_address_guard(address, refused):
    assert address_refused(address) is refused


@pytest.mark.parametrize(
    "url, code",
    [
        ("ftp://example.com/x", "invalid_scheme"),
        ("file:///etc/passwd", "invalid_scheme"),
        ("http://user:pw@example.com/", "invalid"),
        ("https://example.com/" + "a" * 2000, "max_length"),
        ("https:///nohost", "invalid"),
    ],
)
def test_bad_urls_are_400(auth_client, url, code):
    response = auth_client.post(URL, {"url": url}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0] == {
        "code": code,
        "detail": response.json()["errors"][0]["detail"],
        "attr": "url",
    }


def test_plain_http_is_refused_when_https_is_required(auth_client, settings):
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    response = auth_client.post(URL, {"url": "http://example.com/hook"}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "https_required"


def test_redirects_are_not_followed_and_bodies_are_capped(auth_client, user, receiver):
    receiver.responses = [(302, b"", {"Location": "http://169.254.169.254/"}), (200, b"x" * 5000, {})]
    endpoint = _create(auth_client, receiver.url)

    first = auth_client.post(f"{URL}/{endpoint['id']}/test").json()
    second = auth_client.post(f"{URL}/{endpoint['id']}/test").json()

    assert first["status"] == "failed" and first["response_code"] == 302
    assert "redirects are not followed" in first["last_error"]
    assert second["status"] == "succeeded" and len(second["attempts"][0]["response_body"]) == 1024
    assert len(receiver.requests) == 2


def test_the_test_ping_reports_its_attempt(auth_client, receiver):
    endpoint = _create(auth_client, receiver.url)
    receiver.secrets = [endpoint["secret"]]

    response = auth_client.post(f"{URL}/{endpoint['id']}/test")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["event_type"] == "webhook.test" and body["status"] == "succeeded" and body["is_test"]
    assert body["attempts"][0]["response_code"] == 200
    assert receiver.requests[0].verified[endpoint["secret"]]["type"] == "webhook.test"


def test_secret_is_shown_once_and_rotation_keeps_the_old_one_for_the_grace_period(auth_client, receiver):
    endpoint = _create(auth_client, receiver.url)
    old = endpoint["secret"]
    assert old.startswith("whsec_")
    assert "secret" not in auth_client.get(f"{URL}/{endpoint['id']}").json()
    assert "secret" not in auth_client.get(URL).json()["results"][0]

    rotated = auth_client.post(f"{URL}/{endpoint['id']}/rotate-secret", {"grace_hours": 2}, format="json").json()
    new = rotated["secret"]
    receiver.secrets = [old, new]
    auth_client.post(f"{URL}/{endpoint['id']}/test")

    request = receiver.requests[0]
    assert new != old and len(request.headers["webhook-signature"].split(" ")) == 2
    assert isinstance(request.verified[old], dict) and isinstance(request.verified[new], dict)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=3)):
        # The receiver's clock travels too (its timestamp check passes); only the new secret signs now.
        services.endpoint_test(endpoint=WebhookEndpoint.objects.get(pk=endpoint["id"]))
    late = receiver.requests[1]
    assert late.verified[old].startswith("error") and isinstance(late.verified[new], dict)


def test_deliveries_list_and_redeliver(auth_client, user, receiver, celery_eager, django_capture_on_commit_callbacks):
    endpoint = _create(auth_client, receiver.url, events=["budget_alert"])
    realtime_services.notify(user.id, "budget_alert", {"level": "warning"})
    delivery = WebhookDelivery.objects.get()
    services.delivery_attempt(delivery_id=delivery.id)

    listed = auth_client.get(f"{URL}/{endpoint['id']}/deliveries").json()
    assert listed["count"] == 1 and listed["results"][0]["attempts"][0]["number"] == 1
    assert auth_client.get(f"{URL}/{endpoint['id']}/deliveries?status=failed").json()["count"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(f"{URL}/deliveries/{delivery.id}/redeliver")

    assert response.status_code == 202, response.content
    delivery.refresh_from_db()
    assert delivery.attempt == 2 and delivery.status == "succeeded" and len(receiver.requests) == 2


def test_redeliver_to_a_disabled_endpoint_is_409(auth_client, user, receiver):
    endpoint = _create(auth_client, receiver.url, events=["budget_alert"])
    realtime_services.notify(user.id, "budget_alert", {})
    WebhookEndpoint.objects.filter(pk=endpoint["id"]).update(enabled=False)

    response = auth_client.post(f"{URL}/deliveries/{WebhookDelivery.objects.get().id}/redeliver")

    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "endpoint_disabled"


def test_another_users_endpoint_and_delivery_are_404(auth_client, other_client, user, receiver):
    endpoint = _create(auth_client, receiver.url, events=["budget_alert"])
    realtime_services.notify(user.id, "budget_alert", {})
    delivery = WebhookDelivery.objects.get()

    assert other_client.get(f"{URL}/{endpoint['id']}").status_code == 404
    assert other_client.patch(f"{URL}/{endpoint['id']}", {"enabled": False}, format="json").status_code == 404
    assert other_client.delete(f"{URL}/{endpoint['id']}").status_code == 404
    assert other_client.post(f"{URL}/{endpoint['id']}/test").status_code == 404
    assert other_client.get(f"{URL}/{endpoint['id']}/deliveries").status_code == 404
    assert other_client.post(f"{URL}/deliveries/{delivery.id}/redeliver").status_code == 404
    assert other_client.get(URL).json()["count"] == 0
    assert receiver.requests == []


def test_unknown_event_types_are_400(auth_client, receiver):
    response = auth_client.post(URL, {"url": receiver.url, "events": ["nope"]}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "events.0"


def test_a_fan_out_that_runs_twice_adds_nothing(auth_client, user, receiver):
    from realtime.webhooks.fanout import deliveries_create_for

    _create(auth_client, receiver.url, events=["budget_alert"])
    note = realtime_services.notify(user.id, "budget_alert", {"spent": Decimal("1.50")})

    deliveries_create_for(note)

    assert WebhookDelivery.objects.count() == 1


def test_delete_removes_the_endpoint(auth_client, receiver):
    endpoint = _create(auth_client, receiver.url)
    assert auth_client.delete(f"{URL}/{endpoint['id']}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
