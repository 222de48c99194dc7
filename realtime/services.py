"""notify() and the typed event helpers every app calls, plus WebSocket tickets.

An event is written to Notification first and published after commit, so a
rolled-back write never announces anything and a client that missed the live
message (offline, Redis down, slow socket) gets it back through ``resume``.
Callable from sync code (views, services, Celery tasks, commands); async code
awaits ``anotify`` / ``abroadcast``."""

import json
import logging
import secrets
from functools import lru_cache
from hashlib import sha256
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, get_channel_layer
from channels_redis.pubsub import RedisPubSubChannelLayer
from channels_redis.utils import _consistent_hash, decode_hosts
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from config.metrics import metric_count
from config.redis import get_redis
from realtime.models import Notification
from realtime.webhooks.fanout import deliveries_create_for

logger = logging.getLogger(__name__)

BROADCAST_GROUP = "broadcast"
# group_send's message type: the consumer's ``event_message`` handler.
EVENT_MESSAGE = "event.message"
# The consumer's ``session_ended`` handler: the socket's session ended.
SESSION_ENDED_MESSAGE = "session.ended"
EVENT_TYPES = frozenset(
    {
        "transaction_update",
        "budget_alert",
        "anomaly_alert",
        "subscription_reminder",
        "portfolio_update",
        "import_progress",
        "import_committed",
        "broadcast",
        # Staff only: a ledger batch failed verification.
        "integrity_alert",
        # A webhook endpoint was switched off after repeated failures.
        "webhook_disabled",
        # Last month in figures (workers' monthly report), once per user and month.
        "monthly_report",
    }
)
TICKET_PREFIX = "tally:ws-ticket:"


def user_group(user_id) -> str:
    return f"user.{user_id}"


def event_message(notification: Notification) -> dict[str, Any]:
    """The wire shape of a persisted event (DESIGN.md § WebSocket)."""
    return {
        "type": notification.type,
        "id": notification.id,
        "data": notification.data,
        "timestamp": notification.created_at.isoformat(),
    }


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    # Decimals, UUIDs and dates become strings once, so the stored row and the
    # published message (msgpack on the channel layer) are the same JSON.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _event_payload(message: dict[str, Any]) -> dict[str, Any]:
    # The JSON text is encoded once here, not once per socket by every consumer.
    return {"type": EVENT_MESSAGE, "message": message, "text": json.dumps(message)}


@lru_cache(maxsize=8)
def _pubsub_clients(hosts: str) -> list[redis.Redis]:
    """One long-lived sync client per channel-layer host (cached by the hosts
    setting, so a changed CHANNEL_LAYERS gets fresh clients). Short timeouts:
    a Redis that is down costs the caller milliseconds, not the default wait."""
    clients = []
    for host in decode_hosts(json.loads(hosts)):
        host = dict(host)
        address = host.pop("address", None)
        options = {"socket_connect_timeout": 1, "socket_timeout": 1, **host}
        clients.append(redis.Redis.from_url(address, **options) if address else redis.Redis(**options))
    return clients


def _publish_pubsub(layer, group: str, payload: dict[str, Any]) -> None:
    """What RedisPubSubChannelLayer.group_send does (PUBLISH the layer's own
    serialisation to ``<prefix>__group__<group>`` on the group's shard), from a
    persistent sync connection instead of a new event loop and a new Redis
    connection per call (async_to_sync)."""
    config = settings.CHANNEL_LAYERS[DEFAULT_CHANNEL_LAYER].get("CONFIG", {})
    clients = _pubsub_clients(json.dumps(config.get("hosts") or [], sort_keys=True))
    channel = f"{config.get('prefix', 'asgi')}__group__{group}"
    clients[_consistent_hash(channel, len(clients))].publish(channel, layer.serialize(payload))


def _publish_once(group: str, payload: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if isinstance(layer, RedisPubSubChannelLayer):
        _publish_pubsub(layer, group, payload)
    else:  # any other layer (the core RedisChannelLayer): its own group_send
        async_to_sync(layer.group_send)(group, payload)


def _send_to_group(group: str, payload: dict[str, Any]) -> Exception | None:
    """None once sent; the error otherwise (never raised: Redis being down
    must not fail the caller)."""
    try:
        try:
            _publish_once(group, payload)
        except (redis.ConnectionError, ConnectionError):
            # A pooled connection that died with a Redis restart fails once; the retry reconnects.
            _publish_once(group, payload)
    except Exception as exc:  # redis errors, OSError, timeouts
        return exc
    return None


def publish(group: str, message: dict[str, Any]) -> bool:
    """The one way sync code reaches sockets. Redis being down must not fail
    the caller: the event is persisted and comes back on resume."""
    error = _send_to_group(group, _event_payload(message))
    if error is not None:
        logger.warning(
            "realtime publish to %s failed (%s: %s); event %s left for resume",
            group,
            type(error).__name__,
            error,
            message.get("id"),
        )
        return False
    metric_count("events_published", message.get("type") or "")
    return True


def session_group(session_id) -> str:
    """Every socket opened with one session's tokens joins this group."""
    return f"session.{session_id}"


def session_sockets_close(*, session_id, **_) -> bool:
    """Closes the open sockets of a session that ended (the receiver of
    accounts.signals.session_ended). Should Redis drop the message, a socket
    still cannot resume, and its next connect is refused."""
    error = _send_to_group(session_group(session_id), {"type": SESSION_ENDED_MESSAGE})
    if error is not None:
        logger.warning("could not close the sockets of session %s (%s)", session_id, type(error).__name__)
        return False
    return True


def _persist_and_publish(*, user_id, event_type: str, data: dict[str, Any]) -> Notification:
    # One transaction for the event and its webhook deliveries (notify() is often
    # called from on_commit callbacks, in autocommit): neither exists without the other.
    with transaction.atomic(savepoint=False):
        notification = Notification.objects.create(user_id=user_id, type=event_type, data=_plain(data or {}))
        deliveries_create_for(notification)
    group = BROADCAST_GROUP if user_id is None else user_group(user_id)
    message = event_message(notification)
    # After commit: a rolled-back write must not reach anyone, and the row must
    # be visible to a resume that races the live message.
    transaction.on_commit(lambda: publish(group, message))
    return notification


def notify(user_id, event_type: str, data: dict[str, Any]) -> Notification:
    if user_id is None:
        raise ValueError("notify() needs a user_id; use broadcast() for everyone")
    return _persist_and_publish(user_id=user_id, event_type=event_type, data=data)


def broadcast(event_type: str, data: dict[str, Any]) -> Notification:
    return _persist_and_publish(user_id=None, event_type=event_type, data=data)


anotify = database_sync_to_async(notify)
abroadcast = database_sync_to_async(broadcast)


def notify_transaction_update(*, user_id, action: str, transaction: dict[str, Any]):
    return notify(user_id, "transaction_update", {"action": action, "transaction": transaction})


def notify_budget_alert(
    *, user_id, category: str, budget: str, spent: str, percentage: float, remaining: str, level: str
):
    transaction.on_commit(lambda: metric_count("budget_alerts", level))
    return notify(
        user_id,
        "budget_alert",
        {
            "category": category,
            "budget": budget,
            "spent": spent,
            "percentage": percentage,
            "remaining": remaining,
            "level": level,
        },
    )


def notify_anomaly(*, user_id, transaction_id, score: float, amount: str, merchant: str, category: str):
    return notify(
        user_id,
        "anomaly_alert",
        {
            "transaction_id": str(transaction_id),
            "score": score,
            "amount": amount,
            "merchant": merchant,
            "category": category,
        },
    )


def notify_subscription_reminder(
    *, user_id, recurrence_id, merchant: str, amount: str, expected_date: str, currency: str = ""
):
    return notify(
        user_id,
        "subscription_reminder",
        {
            "recurrence_id": str(recurrence_id),
            "merchant": merchant,
            "amount": amount,
            "currency": currency,
            "expected_date": expected_date,
        },
    )


def notify_monthly_report(*, user_id, report: dict[str, Any]):
    """The monthly report's summary in the feed: the figures, not the e-mail."""
    return notify(
        user_id,
        "monthly_report",
        {
            "month": report["month"].strftime("%Y-%m"),
            "currency": report["currency"],
            **report["cashflow"],
            "top_categories": [
                {"category": row["category"], "amount": row["amount"], "previous": row["previous"]}
                for row in report["top_categories"]
            ],
            "budgets_over": [
                {"category": row["category"], "budget": row["budget"], "spent": row["spent"]}
                for row in report["budgets_over"]
            ],
            "new_subscriptions": [
                {"merchant": row["merchant"], "amount": row["amount"], "period_days": row["period_days"]}
                for row in report["new_subscriptions"]
            ],
        },
    )


def notify_portfolio_update(*, user_id, holding: dict[str, Any]):
    return notify(user_id, "portfolio_update", {"holding": holding})


def notify_integrity_alert(
    *, user_id, batch_date: str, root_matches: bool, anchor_ok: bool, problem_count: int, problems: list
):
    return notify(
        user_id,
        "integrity_alert",
        {
            "batch_date": batch_date,
            "root_matches": root_matches,
            "anchor_ok": anchor_ok,
            "problem_count": problem_count,
            "problems": problems,
        },
    )


def notify_import_progress(*, user_id, job_id, processed: int, total: int, status: str, summary: dict | None = None):
    return notify(
        user_id,
        "import_progress",
        {"job_id": str(job_id), "processed": processed, "total": total, "status": status, "summary": summary},
    )


def notify_import_committed(*, user_id, import_id, summary: dict[str, Any]):
    return notify(user_id, "import_committed", {"import_id": str(import_id), **summary})


def notification_mark_read(*, user, ids: list[int] | None = None, up_to_id: int | None = None, now=None) -> int:
    """Marks the user's own unread notifications read; broadcasts are shared rows and stay as they are."""
    from django.utils import timezone

    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(id__in=ids)
    if up_to_id is not None:
        rows = rows.filter(id__lte=up_to_id)
    return rows.update(read_at=now or timezone.now())


def _ticket_key(ticket: str) -> str:
    # Only a hash is stored, so a Redis dump holds no usable ticket.
    return TICKET_PREFIX + sha256(ticket.encode()).hexdigest()


def ticket_issue(*, user_id, session_id) -> str:
    """A single-use WebSocket ticket bound to the caller's session, so a
    browser need not put its long-lived access token in a URL."""
    ticket = secrets.token_urlsafe(32)
    get_redis().set(_ticket_key(ticket), f"{user_id}|{session_id}", ex=settings.WS_TICKET_SECONDS)
    return ticket


def ticket_redeem(*, ticket: str) -> tuple[str, str] | None:
    """(user_id, session_id) once; None if unknown, expired or already used."""
    if not ticket or len(ticket) > 256:
        return None
    try:
        raw = get_redis().getdel(_ticket_key(ticket))
    except redis.RedisError as exc:
        logger.warning("realtime ticket check failed (%s); socket refused", type(exc).__name__)
        return None
    if raw is None:
        return None
    user_id, _, session_id = raw.decode().partition("|")
    return user_id, session_id


def notifications_cleanup(*, older_than_days: int | None = None, now=None) -> int:
    """Deletes notifications (user events and broadcasts) older than the
    retention age; returns how many. Resume cannot replay what is gone, which
    is the point of a retention age."""
    from datetime import timedelta

    from django.utils import timezone

    days = settings.NOTIFICATION_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted, _ = Notification.objects.filter(created_at__lt=cutoff).delete()
    return deleted
