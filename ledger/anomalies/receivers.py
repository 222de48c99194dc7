"""Anomaly scoring listens to the ledger's domain event instead of being
called by the transaction services."""

import logging

from django.dispatch import receiver

from ledger.events import transactions_changed

logger = logging.getLogger(__name__)

SCORED_ACTIONS = ("created", "imported", "updated")


@receiver(transactions_changed, dispatch_uid="ledger.anomalies.score_changed_transactions")
def score_changed_transactions(sender, *, user_id, transaction_ids, action, **kwargs) -> None:
    """A single created or edited row is queued on ``default``; an import's
    many rows are left to the nightly ``ledger.rescore_imported_anomalies``
    (rows with no score yet). Runs after commit, as the event does."""
    if action not in SCORED_ACTIONS or len(transaction_ids) != 1:
        return
    from ledger.anomalies.tasks import score_transaction_anomaly

    try:
        score_transaction_anomaly.delay(str(transaction_ids[0]))
    except Exception as exc:  # broker down: the write stands, the nightly re-score scores the row (score NULL)
        logger.warning("anomaly scoring not queued (%s); left to the nightly re-score", type(exc).__name__)
