"""Turns a persisted Notification into webhook deliveries, in the same
database transaction (an event is never persisted without its deliveries),
and queues their first attempt after commit. realtime.services calls it from
the one place every event is written."""

import logging

from django.conf import settings
from django.db import transaction

from realtime.models import Notification, WebhookDelivery, WebhookEndpoint
from realtime.webhooks.events import webhook_events_for, webhook_payload

logger = logging.getLogger(__name__)


def queue_deliveries(delivery_ids) -> None:
    """Queues attempts, one task per WEBHOOK_BATCH_SIZE deliveries (an event's
    deliveries to all its endpoints go out together, concurrently); a broker
    that is down loses nothing: the periodic sweep (realtime.webhook_sweep)
    sends every due delivery."""
    from realtime.webhooks.tasks import webhook_deliver_batch  # the task module imports the services, which import this

    ids = [str(delivery_id) for delivery_id in delivery_ids]
    size = settings.WEBHOOK_BATCH_SIZE
    for start in range(0, len(ids), size):
        try:
            webhook_deliver_batch.delay(ids[start : start + size])
        except Exception as exc:  # broker errors of every kind: the sweep retries
            logger.warning("%d webhook deliveries not queued (%s); the sweep will send them", len(ids) - start, exc)
            return


def deliveries_create_for(notification: Notification) -> list[WebhookDelivery]:
    if notification.user_id is None:
        return []
    events = webhook_events_for(notification.type, notification.data)
    if not events:
        return []
    endpoints = WebhookEndpoint.objects.filter(
        user_id=notification.user_id, enabled=True, events__overlap=list(events)
    ).values_list("id", "events")
    timestamp = notification.created_at.isoformat()
    deliveries = [
        WebhookDelivery(
            endpoint_id=endpoint_id,
            event_id=notification.id,
            event_type=event_type,
            payload=webhook_payload(event_type=event_type, event_id=notification.id, timestamp=timestamp, data=data),
            next_attempt_at=notification.created_at,
        )
        for endpoint_id, subscribed in endpoints
        for event_type, data in events.items()
        if event_type in subscribed
    ]
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
        ids = [d.id for d in deliveries]
        transaction.on_commit(lambda: queue_deliveries(ids))
    return deliveries
