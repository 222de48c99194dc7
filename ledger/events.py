"""Domain events the ledger sends after a write commits. Higher apps
(budgets, anomaly scoring) listen in their AppConfig.ready, so the ledger
never imports them.

transactions_changed(sender, user_id, categories, transaction_ids, action)
    action: "created" | "updated" | "deleted" | "restored" | "imported" |
    "reconverted" (amount_base recomputed: new rates or a new base currency;
    transaction_ids is then empty, categories all of them)
    categories: the set of categories whose totals may have moved (for an
    edit, both the old and the new one); sent once per request or import.
"""

from django.dispatch import Signal

transactions_changed = Signal()
