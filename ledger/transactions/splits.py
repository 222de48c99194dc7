"""Split transactions: one transaction's amount shared across categories
(a supermarket receipt that is half groceries, half household). The lines
change categorisation, not facts: anchoring and proofs never read them.
Budgets and reports count a split transaction's lines by their own
category instead of the parent's; removing the lines restores the parent."""

from decimal import Decimal

from django.db import transaction as db_transaction

from config.exceptions import DomainError, Invalid
from ledger.events import announce_transactions_changed
from ledger.models import SplitLine, Transaction
from ledger.transactions.audit import By, Change, changes_record, jsonable

MAX_LINES = 50


def split_lines_data(transaction_id) -> list[dict]:
    return [
        {"amount": line.amount, "category": line.category, "notes": line.notes}
        for line in SplitLine.objects.filter(transaction_id=transaction_id).order_by("position")
    ]


@db_transaction.atomic
def transaction_splits_replace(*, transaction: Transaction, user, lines: list[dict], by: str = By.USER):
    """Replace the transaction's split lines ([] removes the split). The lines
    must add up exactly to the amount (400 with the difference otherwise)."""
    from ledger.transactions.services import _lock

    tx = _lock(transaction)
    if len(lines) == 1 or len(lines) > MAX_LINES:
        raise Invalid(
            f"A split has 2 to {MAX_LINES} lines (or none, to remove it).", code="invalid_split", attr="lines"
        )
    total = sum((Decimal(line["amount"]) for line in lines), Decimal("0"))
    if lines and total != tx.amount:
        raise DomainError(
            f"The lines add up to {total:.2f}, not the transaction's {tx.amount:.2f}.",
            code="split_does_not_add_up",
            difference=f"{tx.amount - total:.2f}",
        )
    before = split_lines_data(tx.id)
    after = [{"amount": line["amount"], "category": line["category"], "notes": line.get("notes", "")} for line in lines]
    if jsonable(before) == jsonable(after):
        return after
    SplitLine.objects.filter(transaction=tx).delete()
    SplitLine.objects.bulk_create(
        [SplitLine(transaction=tx, position=i, **line) for i, line in enumerate(after)],
    )
    if tx.is_split != bool(after):
        tx.is_split = bool(after)
        tx.save(update_fields=["is_split", "updated_at"])
    changes_record([Change(tx.id, "splits", before, after)], by=by, actor=user)
    categories = {tx.category, *(line["category"] for line in before), *(line["category"] for line in after)}
    announce_transactions_changed(user_id=tx.user_id, action="updated", categories=categories, transactions=[tx])
    return after
