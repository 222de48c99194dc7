"""Application metrics on /metrics: queue depths, imports by status, webhook
deliveries by outcome, dead letters, login lockouts, open WebSockets, events
published and delivered, budget alerts by level."""

import datetime

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from config.celery import app
from ledger.models import Import
from realtime.models import WebhookDelivery, WebhookEndpoint
from realtime.services import notify, notify_budget_alert
from tests.ledger.factories import AccountFactory
from tests.realtime.conftest import connected, receive_type, send
from workers.models import DeadLetter


def scrape() -> dict[tuple, float]:
    """{(sample name, (label, value)...): value} of the tally_ samples on /metrics
    (scraped the way Prometheus does, with the bearer token)."""
    with override_settings(METRICS_TOKEN="test-metrics-token"):
        response = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer test-metrics-token")
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            if sample.name.startswith("tally_"):
                samples[(sample.name, *sorted(sample.labels.items()))] = sample.value
    return samples


@pytest.mark.django_db
def test_queue_depth_per_celery_queue():
    app.send_task("workers.ping")  # routed to default, no worker running
    app.send_task("ledger.commit_import", args=["x"])  # high_priority
    app.send_task("ledger.commit_import", args=["y"])

    metrics = scrape()

    assert metrics[("tally_celery_queue_depth", ("queue", "default"))] == 1
    assert metrics[("tally_celery_queue_depth", ("queue", "high_priority"))] == 2
    assert metrics[("tally_celery_queue_depth", ("queue", "scheduled"))] == 0


@pytest.mark.django_db
def test_imports_webhooks_and_dead_letters_by_state(user):
    account = AccountFactory(user=user)
    expires = timezone.now() + datetime.timedelta(days=1)
    for status in ("preview", "committed", "committed", "failed"):
        Import.objects.create(
            user=user, account=account, sha256="0" * 64, format="csv", status=status, expires_at=expires
        )
    endpoint = WebhookEndpoint.objects.create(user=user, url="https://hooks.example.com/x", events=["*"], secret="s")
    for status in ("succeeded", "succeeded", "failed", "pending"):
        WebhookDelivery.objects.create(endpoint=endpoint, event_type="budget_alert", payload={}, status=status)
    DeadLetter.objects.create(task_name="workers.ping")
    DeadLetter.objects.create(task_name="workers.ping", requeued_at=timezone.now())
    DeadLetter.objects.create(task_name="workers.ping")

    metrics = scrape()

    assert metrics[("tally_imports", ("status", "committed"))] == 2
    assert metrics[("tally_imports", ("status", "preview"))] == 1
    assert metrics[("tally_imports", ("status", "reverted"))] == 0
    assert metrics[("tally_webhook_deliveries", ("outcome", "succeeded"))] == 2
    assert metrics[("tally_webhook_deliveries", ("outcome", "failed"))] == 1
    assert metrics[("tally_dead_letters", ("state", "waiting"))] == 2
    assert metrics[("tally_dead_letters", ("state", "requeued"))] == 1


@pytest.mark.django_db
def test_login_lockouts(api_client, user, settings):
    settings.LOGIN_THROTTLE = {"MAX_FAILURES": 3, "WINDOW_SECONDS": 60}
    assert scrape()[("tally_login_lockouts",)] == 0
    for _ in range(4):
        api_client.post("/api/v1/auth/login", {"email": user.email, "password": "wrong-wrong-9"}, format="json")

    assert scrape()[("tally_login_lockouts",)] == 1


@pytest.mark.django_db
def test_budget_alerts_by_level_and_events_published(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for level in ("warning", "severe", "severe"):
            notify_budget_alert(
                user_id=user.pk, category="Groceries", budget="100.00", spent="95.00", percentage=95.0,
                remaining="5.00", level=level,
            )  # fmt: skip

    metrics = scrape()

    assert metrics[("tally_budget_alerts_total", ("level", "severe"))] == 2
    assert metrics[("tally_budget_alerts_total", ("level", "warning"))] == 1
    assert metrics[("tally_events_published_total", ("type", "budget_alert"))] == 3


@database_sync_to_async
def _notify_committed(user_id):
    with transaction.atomic():
        return notify(user_id, "transaction_update", {"n": 1}).id


@pytest.mark.django_db(transaction=True)
async def test_open_websockets_and_events_delivered(make_user, token_for):
    user = await make_user()
    scraped = database_sync_to_async(scrape)
    async with connected(await token_for(user)) as first, connected(await token_for(user)):
        assert (await scraped())[("tally_websocket_connections",)] == 2
        await _notify_committed(user.pk)
        await receive_type(first, "transaction_update")
        # The consumer handles one message at a time: once the pong is back, the delivery was counted.
        await send(first, "ping")
        await receive_type(first, "pong")
        metrics = await scraped()
        assert metrics[("tally_events_published_total", ("type", "transaction_update"))] == 1
        assert metrics[("tally_events_delivered_total", ("type", "transaction_update"))] >= 1
    assert (await scraped())[("tally_websocket_connections",)] == 0
