"""The audit trail's one writer. Services describe what they changed as
`Change`s; this module turns them into TransactionChange rows in one
statement, whatever the number of rows (a bulk edit, a rule applied to
thousands of transactions, an import)."""

import json
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
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
    reason = reason[:500]
    rows = []
    for change in changes:
        old, new = jsonable(change.old), jsonable(change.new)
        if old == new:
            continue
        rows.append((uuid.uuid4(), change.transaction_id, change.field, _json(old), _json(new), by, actor_id,
                     change.rule_id or rule_id, import_ref, reason, at))  # fmt: skip
    if rows:
        # COPY, not bulk_create: an import or a rule applied to many rows
        # writes thousands of these, and model instances cost more than the row.
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {TransactionChange._meta.db_table} ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    return len(rows)


_COLUMNS = "id, transaction_id, field, old, new, by, actor_id, rule_id, import_ref, reason, at"


def _json(value) -> str | None:
    """A jsonb cell: JSON null is stored as SQL NULL, as the JSONField does."""
    return None if value is None else json.dumps(value)
