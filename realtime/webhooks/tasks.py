from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TallyTask
from realtime.webhooks import services


@shared_task(
    name="realtime.webhook_deliver_batch", base=TallyTask, max_retries=MAX_RETRIES_DATABASE, ignore_result=True
)
def webhook_deliver_batch(delivery_ids: list[str]) -> dict:
    """One attempt of each due delivery of the batch, sent concurrently; HTTP
    failures are recorded and rescheduled by the service (the sweep queues
    them), not raised. No result row: the attempt logs are the record (a row
    per event would be one more write for every one)."""
    attempted = services.deliveries_attempt(delivery_ids=delivery_ids)
    return {
        "queued": len(delivery_ids),
        "attempted": len(attempted),
        "succeeded": sum(d.status == "succeeded" for d in attempted),
    }


@shared_task(name="realtime.webhook_deliver", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def webhook_deliver(delivery_id: str) -> dict:
    """One delivery (messages queued before batches existed; new ones use webhook_deliver_batch)."""
    delivery = services.delivery_attempt(delivery_id=delivery_id)
    if delivery is None:
        return {"delivery_id": delivery_id, "skipped": True}
    return {"delivery_id": delivery_id, "status": delivery.status, "attempt": delivery.attempt}


@shared_task(name="realtime.webhook_sweep", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def webhook_sweep() -> dict:
    """Every minute: queues due retries and first attempts that missed the broker."""
    return {"queued": services.deliveries_queue_due()}


@shared_task(name="realtime.cleanup_webhook_deliveries", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def cleanup_webhook_deliveries(older_than_days: int | None = None) -> dict:
    """Daily: finished deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS (default 30)."""
    return {"deleted": services.deliveries_cleanup(older_than_days=older_than_days)}
