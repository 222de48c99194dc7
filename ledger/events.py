"""Domain events the ledger sends after a write commits. Higher apps
(budgets, anomaly scoring) listen in their AppConfig.ready, so the ledger
never imports them.

transactions_changed(sender, user_id, categories, transaction_ids, action)
    action: "created" | "updated" | "deleted" | "restored" | "imported" |
    "reconverted" (amount_base recomputed: new rates or a new base currency;
    transaction_ids is then empty, categories all of them)
    categories: the set of categories whose totals may have moved (for an
    edit, both the old and the new one); sent once per request or import.

Every room that writes transactions (transactions, books, rules, imports)
announces the write through `announce_transactions_changed`, the one place
that sends the event and the live page's transaction_update messages.
"""

import uuid
from collections.abc import Iterable, Sequence

from django.db import transaction as db_transaction
from django.dispatch import Signal

from ledger.models import Transaction
from realtime.services import notify_transaction_update

transactions_changed = Signal()


class TransactionIds(Sequence):
    """The ids of a large write (an import of a million rows), 16 bytes an
    id instead of a list of UUID objects (about 100 bytes an id): what an
    import keeps from its first row to the event sent after commit. A
    read-only sequence of UUIDs to receivers."""

    def __init__(self):
        self._data = bytearray()

    def append(self, value: uuid.UUID) -> None:
        self._data += value.bytes

    def __len__(self) -> int:
        return len(self._data) // 16

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        start = range(len(self))[index] * 16
        return uuid.UUID(bytes=bytes(self._data[start : start + 16]))

    def __repr__(self) -> str:
        return f"<{len(self)} transaction ids>"


def realtime_payload(tx: Transaction) -> dict:
    """The small, JSON-safe transaction dict pushed over the WebSocket."""
    merchant = tx.merchant if tx.merchant_id else None
    return {
        "id": str(tx.id),
        "amount": f"{tx.amount:.2f}",
        "currency": tx.currency,
        "account_id": str(tx.account_id),
        "kind": tx.kind,
        "date": tx.date.isoformat(),
        "merchant_raw": tx.merchant_raw,
        "category": tx.category,
        "merchant": {"id": str(merchant.id), "name": merchant.canonical_name} if merchant else None,
    }


def announce_transactions_changed(
    *, user_id, action: str, categories: Iterable[str], transactions: Iterable[Transaction] = (), transaction_ids=None
) -> None:
    """Register, inside the current atomic block, the one round of side
    effects a ledger write causes: transactions_changed once, and one
    transaction_update per row in `transactions` for the live page. They run
    only if the write commits (a rolled-back write announces nothing), and
    the payloads are taken now, from the rows as this write left them.
    Large writes (bulk edits, imports) pass `transaction_ids` alone: the
    event, without a live message per row."""
    transactions = list(transactions)
    if isinstance(transaction_ids, TransactionIds):
        ids = transaction_ids  # kept compact, never copied into a list
    else:
        ids = list(transaction_ids) if transaction_ids is not None else [tx.id for tx in transactions]
    payloads = [realtime_payload(tx) for tx in transactions]
    category_set = set(categories)

    def _run():
        transactions_changed.send(
            sender=Transaction, user_id=user_id, categories=category_set, transaction_ids=ids, action=action
        )
        for payload in payloads:
            notify_transaction_update(user_id=user_id, action=action, transaction=payload)

    db_transaction.on_commit(_run)
