"""The periodic schedule, as rows in django-celery-beat's tables (edited in
admin afterwards; there is no beat_schedule dict in code). Data migrations
call sync_schedules() with the entries that exist at that point; each issue
that adds a nightly job adds its entry in its own migration."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str
    hour: str
    day_of_week: str = "*"
    description: str = ""
    day_of_month: str = "*"


FOUNDATION_SCHEDULES = (
    Schedule(
        "Expired session cleanup",
        "accounts.cleanup_expired_sessions",
        "0",
        "4",
        description="Deletes expired and long-revoked sessions and their refresh tokens.",
    ),
    Schedule(
        "Old task result cleanup",
        "workers.cleanup_task_results",
        "30",
        "4",
        description="Deletes Celery task results older than 14 days.",
    ),
)


WEEKLY_SUMMARY_SCHEDULES = (
    Schedule(
        "Weekly summary e-mail",
        "workers.weekly_summary",
        "0",
        "8",
        day_of_week="1",
        description="Mails last week's spending by category against budgets, Mondays 08:00.",
    ),
)


DOMAIN_JOB_SCHEDULES = (
    Schedule(
        "Subscription detection",
        "ledger.detect_subscriptions",
        "0",
        "1",
        description="Finds recurring charges over the last 400 days and updates Recurrence rows.",
    ),
    Schedule(
        "Anomaly re-score of imported transactions",
        "ledger.rescore_imported_anomalies",
        "30",
        "1",
        description="Scores transactions that arrived without an anomaly score (imports).",
    ),
    Schedule(
        "Budget renewal",
        "budgets.renew_due_budgets",
        "0",
        "3",
        description="Renews every auto-renewing budget whose period has ended.",
    ),
    Schedule(
        "Old notification cleanup",
        "realtime.cleanup_old_notifications",
        "15",
        "4",
        description="Deletes notifications older than NOTIFICATION_RETENTION_DAYS.",
    ),
    Schedule(
        "Subscription reminders",
        "ledger.send_subscription_reminders",
        "0",
        "9",
        description="Reminds users of recurring charges expected within 3 days, once per expected date.",
    ),
)


ANCHORING_SCHEDULES = (
    Schedule(
        "Ledger anchoring",
        "ledger.anchor_ledger",
        "0",
        "2",
        description="Anchors yesterday's transactions in a Merkle batch and re-verifies the batch before it.",
    ),
)


# Hourly at :05, enabled: with the default (manual) price source the run reads
# the distinct instruments held and asks for nothing else; plug in a real
# source (PORTFOLIO_PRICE_SOURCE) and holdings stay within the 24-hour stale rule.
PORTFOLIO_SCHEDULES = (
    Schedule(
        "Portfolio valuation refresh",
        "ledger.refresh_portfolio_valuations",
        "5",
        "*",
        description="Revalues holdings from PORTFOLIO_PRICE_SOURCE and sends portfolio_update for each change.",
    ),
)


# Every minute: the retries that are due (and first attempts a broker outage kept back).
WEBHOOK_SCHEDULES = (
    Schedule(
        "Webhook delivery sweep",
        "realtime.webhook_sweep",
        "*",
        "*",
        description="Queues webhook deliveries whose next attempt is due.",
    ),
    Schedule(
        "Old webhook delivery cleanup",
        "realtime.cleanup_webhook_deliveries",
        "45",
        "4",
        description="Deletes finished webhook deliveries older than WEBHOOK_DELIVERY_RETENTION_DAYS.",
    ),
)


# Daily at 16:30 UTC, after the ECB publishes (about 16:00 CET).
EXCHANGE_RATE_SCHEDULES = (
    Schedule(
        "Exchange rate refresh",
        "ledger.refresh_exchange_rates",
        "30",
        "16",
        description="Stores the latest rates from EXCHANGE_RATE_SOURCE (ECB daily XML by default) and "
        "recomputes the converted amounts they can change.",
    ),
)


# The 1st of the month at 07:00: after the nightly budget renewal (03:00) closed last month's periods.
MONTHLY_REPORT_SCHEDULES = (
    Schedule(
        "Monthly report",
        "workers.monthly_report",
        "0",
        "7",
        day_of_month="1",
        description="Sends each user last month's cash flow, top categories against the month before, budgets "
        "that went over and new subscriptions: a notification and an e-mail, once per month.",
    ),
)


# Every 5 minutes: commits whose worker was lost are resumed (or failed after a day), stale previews expire.
IMPORT_SWEEP_SCHEDULES = (
    Schedule(
        "Import sweep",
        "ledger.sweep_imports",
        "*/5",
        "*",
        description="Resumes commits left running with no live worker (fails them after a day without "
        "progress) and expires previews not committed within a day.",
    ),
)


def sync_schedules(apps, schedules, time_zone="UTC"):
    """Creates or updates the rows; running it twice changes nothing. A row
    staff already edited keeps its crontab (we only create missing ones)."""
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for entry in schedules:
        if PeriodicTask.objects.filter(name=entry.name).exists():
            continue
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=entry.minute,
            hour=entry.hour,
            day_of_week=entry.day_of_week,
            day_of_month=entry.day_of_month,
            month_of_year="*",
            timezone=time_zone,
        )
        PeriodicTask.objects.create(
            name=entry.name, task=entry.task, crontab=crontab, description=entry.description, enabled=True
        )


def remove_schedules(apps, schedules):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[entry.name for entry in schedules]).delete()
