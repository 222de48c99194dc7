import datetime

from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TallyTask
from ledger.recurrences import services


@shared_task(name="ledger.detect_subscriptions", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def detect_subscriptions(today: str | None = None) -> dict:
    """Nightly: create or update every user's Recurrence rows."""
    return services.recurrences_detect(today=datetime.date.fromisoformat(today) if today else None)


@shared_task(name="ledger.send_subscription_reminders", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def send_subscription_reminders(today: str | None = None) -> dict:
    """Daily: one subscription_reminder per recurrence and expected date, 3 days ahead."""
    return services.subscription_reminders_send(today=datetime.date.fromisoformat(today) if today else None)
