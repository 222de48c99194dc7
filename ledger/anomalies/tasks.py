import datetime
import uuid

from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TallyTask
from ledger.anomalies import services


@shared_task(name="ledger.score_transaction_anomaly", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def score_transaction_anomaly(transaction_id: str) -> dict:
    """Queued after a transaction is created or edited."""
    return services.transaction_score_anomaly(transaction_id=uuid.UUID(str(transaction_id)))


@shared_task(name="ledger.rescore_imported_anomalies", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def rescore_imported_anomalies(today: str | None = None) -> dict:
    """Nightly: scores rows that arrived without a score (imports)."""
    return services.anomalies_rescore_unscored(today=datetime.date.fromisoformat(today) if today else None)
