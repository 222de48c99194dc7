"""The audit trail's one writer. Services describe what they changed as
`Change`s; this module turns them into TransactionChange rows in one
statement, whatever the number of rows (a bulk edit, a rule applied to
thousands of transactions, an import)."""

from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from ledger.models import TransactionChange

By = TransactionChange.By


def jsonable(value):
    """What a TransactionChange stores for a value: JSON, money as 2-decimal strings."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if value is not None and not isinstance(value, (str, int, float, bool)):
        return str(value)
    return value


@dataclass(frozen=True)
class Change:
    transaction_id: object
    field: str
    old: object
    new: object
    rule_id: object = None


def changes_record(
    changes,
    *,
    by: str,
    actor=None,
    rule_id=None,
    import_ref=None,
    reason: str = "",
    at=None,
) -> int:
    """Write one TransactionChange per Change whose old and new differ.
    Returns how many were written."""
    at = at or timezone.now()
    actor_id = getattr(actor, "pk", actor)
    rows = []
    for change in changes:
        old, new = jsonable(change.old), jsonable(change.new)
        if old == new:
            continue
        rows.append(
            TransactionChange(
                transaction_id=change.transaction_id,
                field=change.field,
                old=old,
                new=new,
                by=by,
                actor_id=actor_id,
                rule_id=change.rule_id or rule_id,
                import_ref=import_ref,
                reason=reason[:500],
                at=at,
            )
        )
    if rows:
        TransactionChange.objects.bulk_create(rows, batch_size=2000)
    return len(rows)
