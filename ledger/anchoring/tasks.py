import datetime

from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TRANSIENT_ERRORS, TallyTask
from ledger.anchoring import services


@shared_task(
    name="ledger.anchor_ledger",
    base=TallyTask,
    max_retries=MAX_RETRIES_DATABASE,
    autoretry_for=(*TRANSIENT_ERRORS, services.AnchoringRaced),
)
def anchor_ledger(batch_date: str | None = None) -> dict:
    """Nightly 02:00: anchor yesterday's transactions, re-verify the batch before."""
    return services.ledger_anchor_nightly(batch_date=datetime.date.fromisoformat(batch_date) if batch_date else None)


@shared_task(name="ledger.verify_ledger", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def verify_ledger(batch_date: str | None = None) -> dict:
    """Staff-triggered: recompute every batch (or one) and alert staff on a mismatch."""
    reports = services.ledger_verify(
        batch_date=datetime.date.fromisoformat(batch_date) if batch_date else None, notify=True
    )
    return {"batches": len(reports), "failed": [r.batch_date.isoformat() for r in reports if not r.ok]}
