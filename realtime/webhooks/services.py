"""Every webhook write: endpoints, secrets, delivery attempts, redelivery.

A task attempts a batch (an event's deliveries to all its endpoints, or a
slice of the sweep's due ones): it claims the rows (a short lease in
next_attempt_at, so a duplicate task or the sweep skips them), sends them
concurrently outside any transaction, then records the attempts, the retry
schedules and the endpoints' failure counts in one transaction, under row
locks taken endpoints first, deliveries second, each in id order."""

import json
import random
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from config.errors import Conflict, Invalid
from realtime.errors import RealtimeErrorCode
from realtime.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from realtime.webhooks import sender, signing, ssrf
from realtime.webhooks.events import TEST_EVENT_TYPE, WEBHOOK_EVENT_TYPES, webhook_attempted, webhook_payload
from realtime.webhooks.fanout import queue_deliveries

# How long a claimed attempt keeps others off the row: longer than connect + read timeouts.
CLAIM_SECONDS = 120
MAX_GRACE_HOURS = 7 * 24


def url_check(url: str) -> str:
    """400 (attr url) unless the URL is http(s), short enough and resolves to allowed addresses."""
    try:
        ssrf.resolve(url)
    except ssrf.UnsafeURL as exc:
        raise Invalid(str(exc), code=exc.code, attr="url")
    return url


def _events_check(events: list[str] | None) -> list[str]:
    if events is None:
        return list(WEBHOOK_EVENT_TYPES)
    unknown = sorted(set(events) - set(WEBHOOK_EVENT_TYPES))
    if unknown:
        raise Invalid(
            f"Unknown event types: {', '.join(unknown)}.", code=RealtimeErrorCode.INVALID_CHOICE, attr="events"
        )
    if not events:
        raise Invalid("Subscribe to at least one event type.", code=RealtimeErrorCode.EMPTY, attr="events")
    return list(dict.fromkeys(events))


def endpoint_create(*, user, url: str, events: list[str] | None = None, description: str = "", enabled=True):
    url_check(url)
    return WebhookEndpoint.objects.create(
        user=user,
        url=url,
        events=_events_check(events),
        description=description,
        enabled=enabled,
        secret=signing.secret_generate(),
    )


def endpoint_update(*, endpoint: WebhookEndpoint, **fields) -> WebhookEndpoint:
    if "url" in fields:
        url_check(fields["url"])
    if "events" in fields:
        fields["events"] = _events_check(fields["events"])
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if fields.get("enabled") and not endpoint.enabled:
            # Re-enabling starts a fresh failure count.
            endpoint.consecutive_failures, endpoint.failing_since, endpoint.disabled_at = 0, None, None
        for name, value in fields.items():
            setattr(endpoint, name, value)
        endpoint.save()
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint, grace_hours: int = 24, now=None) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (next to the new one) for grace_hours."""
    now = now or timezone.now()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret if grace_hours else ""
        endpoint.previous_secret_expires_at = now + timedelta(hours=grace_hours) if grace_hours else None
        endpoint.secret = signing.secret_generate()
        endpoint.save()
    return endpoint


def _signing_secrets(endpoint: WebhookEndpoint, now) -> list[str]:
    secrets_ = [endpoint.secret]
    if endpoint.previous_secret and endpoint.previous_secret_expires_at and endpoint.previous_secret_expires_at > now:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def retry_delay(attempt: int) -> timedelta:
    """Exponential backoff with equal jitter after failed attempt n (1-based):
    60 s, 2 min, 4 min ... capped at 8 h; 12 attempts span about a day."""
    base = min(settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1), settings.WEBHOOK_RETRY_MAX_SECONDS)
    return timedelta(seconds=base / 2 + random.uniform(0, base / 2))


def claim_lease(batch_size: int) -> timedelta:
    """How long a claimed batch keeps others off its rows: CLAIM_SECONDS for
    each round of WEBHOOK_SEND_CONCURRENCY requests the batch needs."""
    rounds = -(-batch_size // max(1, settings.WEBHOOK_SEND_CONCURRENCY))
    return timedelta(seconds=CLAIM_SECONDS * max(1, rounds))


def _claim(delivery_ids, now, *, force: bool) -> list[WebhookDelivery]:
    """Locks the pending rows (in id order, as _record does), fails those whose
    endpoint is disabled and leases the rest; one transaction for the batch."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        _relaxed_commit(outermost)
        rows = list(
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint")
            .filter(pk__in=list(delivery_ids), status=WebhookDelivery.Status.PENDING)
            .order_by("pk")
        )
        if not force:
            rows = [d for d in rows if not (d.next_attempt_at and d.next_attempt_at > now)]  # not due, or claimed
        off = {d.pk for d in rows if not d.endpoint.enabled and not d.is_test}
        if off:
            WebhookDelivery.objects.filter(pk__in=off).update(
                status=WebhookDelivery.Status.FAILED,
                last_error="endpoint disabled",
                next_attempt_at=None,
                updated_at=now,
            )
        claimed = [d for d in rows if d.pk not in off]
        if claimed:
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in claimed]).update(
                next_attempt_at=now + claim_lease(len(claimed)), updated_at=now
            )
        return claimed


def _send(delivery: WebhookDelivery, now) -> sender.SendResult:
    endpoint = delivery.endpoint
    try:
        target = ssrf.resolve(endpoint.url)  # again at delivery: DNS can change
    except ssrf.UnsafeURL as exc:
        return sender.SendResult(False, None, 0, "", f"refused: {exc}"[:500])
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = signing.signature_headers(
        msg_id=f"msg_{delivery.id.hex}", timestamp=now, body=body, secrets_=_signing_secrets(endpoint, now)
    )
    return sender.send(
        sender.Request(target, body.encode(), {"Content-Type": "application/json", **headers}),
    )


def _disable(endpoint: WebhookEndpoint, now) -> None:
    from realtime.services import notify  # realtime.services imports this package's fan-out

    endpoint.enabled, endpoint.disabled_at = False, now
    endpoint.save()  # before notify: the event's own fan-out must not pick this endpoint
    notify(
        endpoint.user_id,
        "webhook_disabled",
        {"endpoint_id": str(endpoint.id), "url": endpoint.url, "consecutive_failures": endpoint.consecutive_failures},
    )


def _record(claimed: list[WebhookDelivery], results: list[sender.SendResult], now) -> list[WebhookDelivery]:
    """The batch's attempts in one transaction: attempt logs in one INSERT,
    deliveries in one UPDATE; endpoints are locked (before the deliveries)
    only when one failed, and a success resets a failure count in one UPDATE."""
    outcomes = list(zip(claimed, results, strict=True))
    failing = sorted({d.endpoint_id for d, r in outcomes if not d.is_test and not r.succeeded})
    # Endpoints whose failure count a success resets (as the claim saw them; a count that
    # grows meanwhile is reset by the next success).
    succeeding = {
        d.endpoint_id
        for d, r in outcomes
        if not d.is_test and r.succeeded and (d.endpoint.consecutive_failures or d.endpoint.failing_since)
    } - set(failing)
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        _relaxed_commit(outermost)
        endpoints = WebhookEndpoint.objects.select_for_update().in_bulk(failing) if failing else {}
        current = dict(
            WebhookDelivery.objects.select_for_update()
            .filter(pk__in=[d.pk for d in claimed])
            .order_by("pk")
            .values_list("pk", "attempt")
        )
        attempts, recorded = [], []
        for delivery, result in outcomes:
            if delivery.pk not in current:
                continue  # deleted with its endpoint while it was being sent
            delivery.attempt = current[delivery.pk] + 1
            attempts.append(
                WebhookAttempt(
                    delivery=delivery,
                    number=delivery.attempt,
                    succeeded=result.succeeded,
                    response_code=result.response_code,
                    duration_ms=result.duration_ms,
                    response_body=result.response_body,
                    error=result.error,
                    created_at=now,
                )
            )
            delivery.response_code, delivery.duration_ms, delivery.last_error = (
                result.response_code,
                result.duration_ms,
                result.error,
            )
            max_attempts = 1 if delivery.is_test else settings.WEBHOOK_MAX_ATTEMPTS
            if result.succeeded:
                delivery.status, delivery.delivered_at, delivery.next_attempt_at = "succeeded", now, None
            elif delivery.attempt >= max_attempts:
                delivery.status, delivery.next_attempt_at = "failed", None
            else:
                delivery.next_attempt_at = now + retry_delay(delivery.attempt)
            delivery.updated_at = now
            if delivery.endpoint_id in endpoints:
                delivery.endpoint = endpoints[delivery.endpoint_id]
                if not delivery.is_test:
                    _count(delivery.endpoint, result.succeeded, now)
            recorded.append((delivery, result))
        WebhookAttempt.objects.bulk_create(attempts)
        _deliveries_save_outcomes([d for d, _ in recorded], now)
        if succeeding:
            WebhookEndpoint.objects.filter(pk__in=succeeding).exclude(
                consecutive_failures=0, failing_since=None
            ).update(consecutive_failures=0, failing_since=None, updated_at=now)
    transaction.on_commit(lambda: _signal_attempts(recorded))
    return [d for d, _ in recorded]


_OUTCOME_COLUMNS = (
    ("attempt", "integer"),
    ("response_code", "integer"),
    ("duration_ms", "integer"),
    ("last_error", "varchar"),
    ("status", "varchar"),
    ("delivered_at", "timestamptz"),
    ("next_attempt_at", "timestamptz"),
)


def _deliveries_save_outcomes(deliveries: list[WebhookDelivery], now) -> None:
    """One UPDATE ... FROM (VALUES ...) for the batch: bulk_update's CASE per
    field and row cost more Python time than the rest of the attempt."""
    if not deliveries:
        return
    names = [name for name, _ in _OUTCOME_COLUMNS]
    row = "(%s::uuid, " + ", ".join(f"%s::{kind}" for _, kind in _OUTCOME_COLUMNS) + ")"
    table = WebhookDelivery._meta.db_table
    sql = (
        f"UPDATE {table} AS d SET {', '.join(f'{n} = v.{n}' for n in names)}, updated_at = %s "
        f"FROM (VALUES {', '.join([row] * len(deliveries))}) AS v(id, {', '.join(names)}) WHERE d.id = v.id"
    )
    params = [now]
    for delivery in deliveries:
        params += [delivery.pk, *(getattr(delivery, n) for n in names)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _relaxed_commit(outermost: bool) -> None:
    """Commits of a claim or a record don't wait for the WAL flush: one lost in
    a database crash only sends that delivery again, with the same webhook-id
    (at-least-once; receivers dedupe). The deliveries themselves are written
    with the event, durably. Only for a transaction of our own: SET LOCAL in
    a caller's transaction would relax the caller's commit too."""
    if not outermost:
        return
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _signal_attempts(recorded) -> None:
    for delivery, result in recorded:
        webhook_attempted.send(
            sender=WebhookDelivery,
            endpoint_id=delivery.endpoint_id,
            event_type=delivery.event_type,
            succeeded=result.succeeded,
            response_code=result.response_code,
            duration_ms=result.duration_ms,
        )


def _count(endpoint: WebhookEndpoint, succeeded: bool, now) -> None:
    if succeeded:
        if endpoint.consecutive_failures or endpoint.failing_since:
            endpoint.consecutive_failures, endpoint.failing_since = 0, None
            endpoint.save(update_fields=["consecutive_failures", "failing_since", "updated_at"])
        return
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or now
    # Disabled only when it keeps failing both often and for long (one bad minute is not enough).
    if (
        endpoint.enabled
        and endpoint.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES
        and now - endpoint.failing_since >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    ):
        _disable(endpoint, now)
    endpoint.save()


def deliveries_attempt(*, delivery_ids, now=None, force: bool = False) -> list[WebhookDelivery]:
    """One attempt of each due delivery of the batch (a task's body), sent
    concurrently outside any transaction; the deliveries attempted (not the
    ones not due, claimed elsewhere, finished or of a disabled endpoint)."""
    now = now or timezone.now()
    claimed = _claim(delivery_ids, now, force=force)
    if not claimed:
        return []
    results = sender.concurrently(lambda delivery: _send(delivery, now), claimed)
    return _record(claimed, results, now)


def delivery_attempt(*, delivery_id, now=None, force: bool = False) -> WebhookDelivery | None:
    """One attempt of one delivery; None when there was nothing to do."""
    attempted = deliveries_attempt(delivery_ids=[delivery_id], now=now, force=force)
    return attempted[0] if attempted else None


def delivery_redeliver(*, delivery: WebhookDelivery, now=None) -> WebhookDelivery:
    """Sends the delivery again (same webhook-id, so receivers dedupe) as soon as a worker takes it."""
    now = now or timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
        if not delivery.endpoint.enabled:
            raise Conflict("The endpoint is disabled; enable it first.", code=RealtimeErrorCode.ENDPOINT_DISABLED)
        delivery.status, delivery.next_attempt_at = WebhookDelivery.Status.PENDING, now
        delivery.save(update_fields=["status", "next_attempt_at", "updated_at"])
        transaction.on_commit(lambda: queue_deliveries([delivery.id]))
    return delivery


def endpoint_test(*, endpoint: WebhookEndpoint, now=None) -> WebhookDelivery:
    """A webhook.test delivery, attempted once, now, in the request."""
    now = now or timezone.now()
    data = {"endpoint_id": str(endpoint.id), "message": "Tally webhook test"}
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type=TEST_EVENT_TYPE,
        payload=webhook_payload(event_type=TEST_EVENT_TYPE, event_id=None, timestamp=now.isoformat(), data=data),
        is_test=True,
        next_attempt_at=now,
    )
    return delivery_attempt(delivery_id=delivery.id, now=now, force=True) or delivery


def deliveries_queue_due(*, now=None, limit: int = 1000) -> int:
    """Queues every pending delivery that is due (retries, and first attempts
    a broker outage kept from being queued); the attempt's claim makes a
    duplicate queue entry harmless."""
    now = now or timezone.now()
    ids = list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    queue_deliveries(ids)
    return len(ids)


def deliveries_cleanup(*, older_than_days: int | None = None, now=None) -> int:
    days = settings.WEBHOOK_DELIVERY_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = (
        WebhookDelivery.objects.filter(created_at__lt=cutoff).exclude(status=WebhookDelivery.Status.PENDING).delete()
    )
    return deleted
