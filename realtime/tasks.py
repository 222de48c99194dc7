from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TallyTask
from realtime import services
from realtime.webhooks.tasks import cleanup_webhook_deliveries, webhook_deliver, webhook_deliver_batch, webhook_sweep  # noqa: F401


@shared_task(name="realtime.broadcast_send")
def broadcast_send(event_type: str, data: dict) -> int:
    """An announcement to every connected user (admin, commands); returns the Notification id."""
    return services.broadcast(event_type, data).id


@shared_task(name="realtime.cleanup_old_notifications", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def cleanup_old_notifications(older_than_days: int | None = None) -> dict:
    """Daily: deletes notifications older than NOTIFICATION_RETENTION_DAYS (default 90)."""
    return {"deleted": services.notifications_cleanup(older_than_days=older_than_days)}
