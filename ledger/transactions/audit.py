"""The audit trail's one writer. Services describe what they changed as
`Change`s; this module turns them into TransactionChange rows in one
statement, whatever the number of rows (a bulk edit, a rule applied to
thousands of transactions, an import)."""

import json
from decimal import Decimal
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from config.ids import ordered_id_texts, ordered_ids
from config.sql import copy_text
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


class Change(NamedTuple):
    """One field of one transaction changed (a tuple: rules make one per change of an import's rows)."""

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
    # The cells every row shares, as COPY text once: before the row's rule and after it.
    before_rule = f"{copy_text(by)}\t{copy_text(getattr(actor, 'pk', actor))}\t"
    after_rule = f"\t{copy_text(import_ref)}\t{copy_text(reason[:500])}\t{copy_text(at.isoformat())}\n"
    default_rule = copy_text(rule_id)
    lines = []
    json_of = {}  # a value's JSON cell, once per distinct text (categories, merchants and notes repeat)
    for change in changes:
        old, new = change.old, change.new
        # Most changes are texts (category, notes, merchant): no conversion needed for those.
        if old is not None and type(old) is not str:
            old = jsonable(old)
        if new is not None and type(new) is not str:
            new = jsonable(new)
        if old == new:
            continue
        cells = []
        for value in (old, new):
            if type(value) is str:
                cell = json_of.get(value)
                if cell is None:
                    cell = json_of[value] = copy_text(json.dumps(value))
            else:
                cell = copy_text(_json(value))
            cells.append(cell)
        rule = copy_text(change.rule_id) if change.rule_id else default_rule
        lines.append((f"{change.transaction_id}\t{copy_text(change.field)}\t{cells[0]}\t{cells[1]}\t", rule))
    if lines:
        # COPY, not bulk_create: an import or a rule applied to many rows
        # writes thousands of these, and model instances cost more than the
        # row. The rows go as COPY text built here (every cell formatted once
        # above, the shared ones once per call), not through the per-value adapters.
        ids = ordered_id_texts(len(lines))
        text = "".join(
            f"{row_id}\t{head}{before_rule}{rule}{after_rule}" for row_id, (head, rule) in zip(ids, lines, strict=True)
        )
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {TransactionChange._meta.db_table} ({AUDIT_COLUMNS}) FROM STDIN") as copy:
                copy.write(text.encode())
    return len(lines)


def changes_record_column(
    transaction_ids, olds, *, field: str, new, by: str, actor=None, reason: str = "", at=None
) -> int:
    """Many rows' one field set to one value, the old values texts or None
    (category, notes, account in a bulk edit): one INSERT ... SELECT over two
    arrays, ids and JSON made by the server. The caller leaves out the rows
    whose value did not change. Returns how many were written."""
    ids = list(transaction_ids)
    if not ids:
        return 0
    new = _json(jsonable(new))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TransactionChange._meta.db_table} ({AUDIT_COLUMNS}) "
            "SELECT v.id, v.tx, %s, to_jsonb(v.old), %s::jsonb, %s, %s, NULL, NULL, %s, %s "
            "FROM unnest(%s::uuid[], %s::uuid[], %s::text[]) AS v(id, tx, old)",
            [field, new, by, getattr(actor, "pk", actor), reason[:500], at or timezone.now(), ordered_ids(len(ids)),
             ids, [None if old is None else str(old) for old in olds]],
        )  # fmt: skip
    return len(ids)


AUDIT_COLUMNS = "id, transaction_id, field, old, new, by, actor_id, rule_id, import_ref, reason, at"


def _json(value) -> str | None:
    """A jsonb cell: JSON null is stored as SQL NULL, as the JSONField does."""
    return None if value is None else json.dumps(value)
