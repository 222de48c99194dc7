"""Deliveries sent in batches: an event's deliveries to all its endpoints in
one task, concurrently, over kept-alive connections that never skip the
per-delivery address check."""

import socket

import pytest
from django.utils import timezone

from realtime import services as realtime_services
from realtime.models import Notification, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from realtime.webhooks import sender, services, ssrf
from realtime.webhooks.tasks import webhook_deliver_batch
from tests.realtime.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def private_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    return settings


@pytest.fixture(autouse=True)
def empty_pool():
    sender.POOL.clear()
    yield
    sender.POOL.clear()


def _endpoints(user, receiver, n, events=("budget_alert",)):
    made = [services.endpoint_create(user=user, url=f"{receiver.url}/{k}", events=list(events)) for k in range(n)]
    receiver.secrets = [endpoint.secret for endpoint in made]
    return made


def test_an_events_deliveries_to_every_endpoint_go_out_in_one_task(
    user, private_allowed, celery_eager, django_capture_on_commit_callbacks, monkeypatch
):
    batches = []
    monkeypatch.setattr(webhook_deliver_batch, "delay", lambda ids: batches.append(ids) or webhook_deliver_batch(ids))
    with Receiver(keep_alive=True) as receiver:
        endpoints = _endpoints(user, receiver, 5)
        with django_capture_on_commit_callbacks(execute=True):
            realtime_services.notify(user.id, "budget_alert", {"category": "Groceries"})

    (batch,) = batches
    assert len(batch) == 5
    assert sorted(r.path for r in receiver.requests) == [f"/hooks/{k}" for k in range(5)]
    for request in receiver.requests:  # each verifies with its own endpoint's secret
        endpoint = endpoints[int(request.path.rsplit("/", 1)[1])]
        assert request.verified[endpoint.secret]["type"] == "budget_alert"
    assert set(WebhookDelivery.objects.values_list("status", "attempt")) == {("succeeded", 1)}
    assert WebhookAttempt.objects.filter(succeeded=True, number=1).count() == 5


def test_connections_are_kept_alive_between_deliveries(user, private_allowed):
    with Receiver(keep_alive=True) as receiver:
        _endpoints(user, receiver, 1)
        for _ in range(3):
            realtime_services.notify(user.id, "budget_alert", {})
            services.deliveries_attempt(
                delivery_ids=WebhookDelivery.objects.filter(attempt=0).values_list("id", flat=True)
            )

    assert len(receiver.requests) == 3
    assert receiver.connections == 1
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 3


def _drop_idle_connections():
    for connections in sender.POOL._idle.values():
        for _, conn in connections:
            conn.sock.shutdown(socket.SHUT_RDWR)  # as if the receiver had dropped it: reads EOF, writes fail


@pytest.mark.parametrize("noticed_before_use", [True, False])
def test_a_connection_the_receiver_closed_while_idle_is_replaced_and_sent_once(
    user, private_allowed, monkeypatch, noticed_before_use
):
    if not noticed_before_use:  # the close lands between the check and the request: sent again on a fresh one
        monkeypatch.setattr(sender, "_still_open", lambda conn: True)
    with Receiver(keep_alive=True) as receiver:
        _endpoints(user, receiver, 1)
        realtime_services.notify(user.id, "budget_alert", {})
        services.deliveries_attempt(delivery_ids=WebhookDelivery.objects.values_list("id", flat=True))
        _drop_idle_connections()
        realtime_services.notify(user.id, "budget_alert", {})
        services.deliveries_attempt(delivery_ids=WebhookDelivery.objects.filter(attempt=0).values_list("id", flat=True))

    assert len(receiver.requests) == 2 and receiver.connections == 2
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 2


def test_a_kept_connection_is_not_used_once_the_address_is_refused(user, private_allowed):
    with Receiver(keep_alive=True) as receiver:
        _endpoints(user, receiver, 1)
        realtime_services.notify(user.id, "budget_alert", {})
        services.deliveries_attempt(delivery_ids=WebhookDelivery.objects.values_list("id", flat=True))
        assert sender.POOL._idle  # a warm connection to 127.0.0.1
        private_allowed.WEBHOOKS_ALLOW_PRIVATE_URLS = False
        realtime_services.notify(user.id, "budget_alert", {})
        (delivery,) = services.deliveries_attempt(
            delivery_ids=WebhookDelivery.objects.filter(attempt=0).values_list("id", flat=True)
        )

    assert len(receiver.requests) == 1
    assert delivery.status == "pending" and delivery.response_code is None and "refused" in delivery.last_error


def test_a_connection_is_kept_per_checked_address():
    first = ssrf.Target("http", "hooks.example.com", 80, "/", "93.184.216.34")
    moved = ssrf.Target("http", "hooks.example.com", 80, "/", "93.184.216.35")
    pool = sender.ConnectionPool()
    conn = sender._new_connection(first)
    conn.sock = object()  # stands for an open socket; never used
    pool._idle[sender._target_key(first)] = [(float("inf"), conn)]

    assert pool.take(moved) is None  # DNS moved the host: a new connection, to the new checked address


def test_one_failing_endpoint_in_a_batch_counts_only_against_itself(user, private_allowed, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 1
    settings.WEBHOOK_DISABLE_AFTER_HOURS = 0
    with Receiver(keep_alive=True) as receiver:
        good, bad = _endpoints(user, receiver, 2)
        WebhookEndpoint.objects.filter(pk=good.pk).update(consecutive_failures=3, failing_since=timezone.now())
        receiver.by_path["/hooks/1"] = (500, b"down", {})
        realtime_services.notify(user.id, "budget_alert", {})
        attempted = services.deliveries_attempt(delivery_ids=WebhookDelivery.objects.values_list("id", flat=True))

    by_endpoint = {d.endpoint_id: d for d in attempted}
    assert by_endpoint[good.pk].status == "succeeded"
    assert by_endpoint[bad.pk].status == "pending" and by_endpoint[bad.pk].response_code == 500
    good.refresh_from_db()
    bad.refresh_from_db()
    assert (good.consecutive_failures, good.failing_since, good.enabled) == (0, None, True)
    assert bad.consecutive_failures == 1 and not bad.enabled
    assert Notification.objects.filter(user=user, type="webhook_disabled").count() == 1


@pytest.mark.django_db(transaction=True)
def test_relaxed_commits_stay_inside_the_attempts_own_transactions(user, private_allowed):
    """Outside any caller's transaction (a worker), claim and record commit
    without waiting for the WAL flush; the connection's setting is untouched
    afterwards, and a caller's transaction is never relaxed."""
    from django.db import connection, transaction

    def synchronous_commit():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    with Receiver(keep_alive=True) as receiver:
        _endpoints(user, receiver, 2)
        realtime_services.notify(user.id, "budget_alert", {})
        attempted = services.deliveries_attempt(delivery_ids=WebhookDelivery.objects.values_list("id", flat=True))
        assert synchronous_commit() == "on"

        realtime_services.notify(user.id, "budget_alert", {})
        with transaction.atomic():
            services.deliveries_attempt(
                delivery_ids=WebhookDelivery.objects.filter(attempt=0).values_list("id", flat=True)
            )
            assert synchronous_commit() == "on"

    assert [d.status for d in attempted] == ["succeeded", "succeeded"]
    assert WebhookDelivery.objects.filter(status="succeeded").count() == 4 and len(receiver.requests) == 4


def test_a_batch_is_leased_long_enough_for_every_round_of_requests(settings):
    settings.WEBHOOK_SEND_CONCURRENCY = 4
    one_round = services.claim_lease(1)
    assert one_round.total_seconds() > settings.WEBHOOK_CONNECT_TIMEOUT + settings.WEBHOOK_READ_TIMEOUT
    assert services.claim_lease(4) == one_round
    assert services.claim_lease(5) == 2 * one_round and services.claim_lease(25) == 7 * one_round
