import datetime
import uuid

from celery import shared_task

from ledger import anchoring, anomalies, portfolio, services, subscriptions
from workers.retry import MAX_RETRIES_DATABASE, TRANSIENT_ERRORS, TallyTask


@shared_task(name="ledger.import_transactions")
def import_transactions(job_id: str) -> dict:
    return services.import_job_run(job_id=job_id)


@shared_task(name="ledger.detect_subscriptions", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def detect_subscriptions(today: str | None = None) -> dict:
    """Nightly: create or update every user's Recurrence rows."""
    return subscriptions.recurrences_detect(today=datetime.date.fromisoformat(today) if today else None)


@shared_task(name="ledger.send_subscription_reminders", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def send_subscription_reminders(today: str | None = None) -> dict:
    """Daily: one subscription_reminder per recurrence and expected date, 3 days ahead."""
    return subscriptions.subscription_reminders_send(today=datetime.date.fromisoformat(today) if today else None)


@shared_task(name="ledger.score_transaction_anomaly", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def score_transaction_anomaly(transaction_id: str) -> dict:
    """Queued after a transaction is created or edited."""
    return anomalies.transaction_score_anomaly(transaction_id=uuid.UUID(str(transaction_id)))


@shared_task(name="ledger.rescore_imported_anomalies", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def rescore_imported_anomalies(today: str | None = None) -> dict:
    """Nightly: scores rows that arrived without a score (imports)."""
    return anomalies.anomalies_rescore_unscored(today=datetime.date.fromisoformat(today) if today else None)


@shared_task(
    name="ledger.anchor_ledger",
    base=TallyTask,
    max_retries=MAX_RETRIES_DATABASE,
    autoretry_for=(*TRANSIENT_ERRORS, anchoring.AnchoringRaced),
)
def anchor_ledger(batch_date: str | None = None) -> dict:
    """Nightly 02:00: anchor yesterday's transactions, re-verify the batch before."""
    return anchoring.ledger_anchor_nightly(batch_date=datetime.date.fromisoformat(batch_date) if batch_date else None)


@shared_task(name="ledger.verify_ledger", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def verify_ledger(batch_date: str | None = None) -> dict:
    """Staff-triggered: recompute every batch (or one) and alert staff on a mismatch."""
    reports = anchoring.ledger_verify(
        batch_date=datetime.date.fromisoformat(batch_date) if batch_date else None, notify=True
    )
    return {"batches": len(reports), "failed": [r.batch_date.isoformat() for r in reports if not r.ok]}


@shared_task(name="ledger.refresh_portfolio_valuations", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def refresh_portfolio_valuations() -> dict:
    """Hourly: revalue holdings from PORTFOLIO_PRICE_SOURCE (the default quotes nothing: a no-op)."""
    return portfolio.holdings_refresh_prices()
