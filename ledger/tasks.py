"""Celery's autodiscovery imports ``ledger.tasks``: this registers every
sub-package's tasks. Task names stay ``ledger.<name>`` (the beat rows and
routes name them)."""

from ledger.anchoring.tasks import anchor_ledger, verify_ledger
from ledger.anomalies.tasks import rescore_imported_anomalies, score_transaction_anomaly
from ledger.currency.tasks import recompute_base_amounts, refresh_exchange_rates
from ledger.imports.tasks import commit_import, sweep_imports
from ledger.portfolio.tasks import refresh_portfolio_valuations
from ledger.recurrences.tasks import detect_subscriptions, send_subscription_reminders

__all__ = [
    "anchor_ledger",
    "commit_import",
    "detect_subscriptions",
    "refresh_portfolio_valuations",
    "rescore_imported_anomalies",
    "score_transaction_anomaly",
    "sweep_imports",
    "recompute_base_amounts",
    "refresh_exchange_rates",
    "send_subscription_reminders",
    "verify_ledger",
]
