from celery import shared_task


@shared_task(name="workers.ping", ignore_result=False)
def ping():
    """Round trip through the broker and a worker; used by operators and tests."""
    return "pong"
