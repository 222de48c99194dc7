"""Listeners for other apps' domain events, connected in BudgetsConfig.ready."""

import logging

from budgets import services

logger = logging.getLogger(__name__)


def on_transactions_changed(sender, *, user_id, categories, transaction_ids=None, action=None, **kwargs):
    # The ledger sends this after its write committed: a failure here must not
    # turn the user's saved transaction into an error response.
    try:
        services.transactions_changed_handle(user_id=user_id, categories=categories)
    except Exception:
        logger.exception("budget evaluation failed after %s of %s", action, transaction_ids)


def on_base_currency_changing(sender, *, user_id, old, new, on, **kwargs) -> dict:
    # Inside the change's transaction: a failure here fails the change (budgets must not silently change meaning).
    return services.budgets_convert_base(user_id=user_id, old=old, new=new, on=on)
