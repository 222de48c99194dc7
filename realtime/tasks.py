from celery import shared_task

from realtime import services


@shared_task(name="realtime.broadcast_send")
def broadcast_send(event_type: str, data: dict) -> int:
    """An announcement to every connected user (admin, commands); returns the Notification id."""
    return services.broadcast(event_type, data).id
