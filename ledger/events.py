"""Domain events the ledger sends after a write commits. Higher apps
(budgets, anomaly scoring) listen in their AppConfig.ready, so the ledger
never imports them.

transactions_changed(sender, user_id, categories, transaction_ids, action)
    action: "created" | "updated" | "deleted" | "restored" | "imported"
    categories: the set of categories whose totals may have moved (for an
    edit, both the old and the new one); sent once per request or import.
"""

from django.dispatch import Signal

transactions_changed = Signal()
