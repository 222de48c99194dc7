import datetime

from celery import shared_task
from django.utils import timezone

from config.tasks import MAX_RETRIES_DATABASE, MAX_RETRIES_EMAIL, TallyTask
from workers import services


@shared_task(name="workers.ping", ignore_result=False)
def ping():
    """Round trip through the broker and a worker; used by operators and tests."""
    return "pong"


@shared_task(name="workers.cleanup_task_results", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def cleanup_task_results(older_than_days: int = 14):
    return {"deleted": services.task_results_cleanup(older_than_days=older_than_days)}


@shared_task(name="workers.weekly_summary", base=TallyTask, max_retries=MAX_RETRIES_EMAIL)
def weekly_summary(today: str | None = None):
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    return services.weekly_summaries_send(today=day)


@shared_task(name="workers.monthly_report", base=TallyTask, max_retries=MAX_RETRIES_EMAIL)
def monthly_report(today: str | None = None):
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    return services.monthly_reports_send(today=day)
