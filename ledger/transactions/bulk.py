"""Bulk edit: one request changes (or deletes) up to 10,000 listed
transactions, or every transaction a list filter selects. Atomic; the rows
are locked in id order; a constant number of statements whatever the row
count; one correction per row whose category changed and one audit row per
changed field of each row; one transactions_changed event (so one budget
re-evaluation per touched category, not per row).

Set-based whatever the count: the ids travel as one array, each changed
field is one UPDATE, one audit INSERT ... SELECT and (for a category) one
corrections INSERT; tags are one read, one delete and one insert
(transactions.tags.transaction_tags_change)."""

import json

from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from config.exceptions import Conflict, DomainError, NotFound
from config.ids import ordered_ids
from ledger.books.guards import (
    RECONCILED_CODE,
    account_check_open,
    account_reconciled_through,
    reject_reconciled_delete,
)
from ledger.books.matching import transfers_unlink
from ledger.events import announce_transactions_changed
from ledger.models import Account, CategoryCorrection, Transaction, Transfer
from ledger.transactions.audit import By, changes_record_column
from ledger.transactions.selectors import transaction_list
from ledger.transactions.tags import tags_resolve, transaction_tags_change

MAX_IDS = 10_000
SETTABLE = ("category", "tags_add", "tags_remove", "notes", "account")


@db_transaction.atomic
def transactions_bulk_edit(*, user, ids=None, filters=None, set=None, delete: bool = False) -> dict:  # noqa: A002
    """-> {matched, changed: {category, notes, tags, account}, deleted}"""
    if (ids is None) == (filters is None):
        raise DomainError("Send either ids or filter.", code="invalid")
    if bool(set) == bool(delete):
        raise DomainError("Send either set (with at least one change) or delete.", code="invalid")
    set = set or {}  # noqa: A001
    unknown = sorted(key for key in set if key not in SETTABLE)
    if unknown:
        raise DomainError(f"Cannot set {', '.join(unknown)}; settable: {', '.join(SETTABLE)}.", code="invalid")
    account = None
    if "account" in set:
        account = Account.objects.filter(user=user, id=set["account"]).first()
        if account is None:
            raise NotFound("Account not found.")
        account_check_open(account)  # a closed account takes no new rows, moved ones included
    if ids is not None:
        ids = list(dict.fromkeys(ids))
        if len(ids) > MAX_IDS:
            raise DomainError(f"At most {MAX_IDS} ids at once; use a filter for more.", code="too_many_ids")
        # One array parameter, not an IN list of 10,000 placeholders (building and binding those cost seconds).
        queryset = Transaction.objects.filter(user=user, is_deleted=False).filter(_id_any(ids))
    else:
        queryset = transaction_list(user=user, filters=filters or {})

    with connection.cursor() as cursor:
        # Every statement below is set-based over up to 10,000 rows: JIT compiling them only adds time.
        cursor.execute("SET LOCAL jit = off")
    rows = list(
        queryset.select_for_update(of=("self",))
        .order_by("id")
        .values_list("id", "category", "notes", "account_id", "merkle_batch_id")
    )
    if ids is not None and len(rows) != len(ids):
        raise NotFound("Transaction not found.")  # another user's or a deleted id: nothing is changed
    matched = [row[0] for row in rows]
    result = {"matched": len(matched), "changed": {"category": 0, "notes": 0, "tags": 0, "account": 0}, "deleted": 0}
    if not matched:
        return result
    categories = {row[1] for row in rows}
    now = timezone.now()
    if delete:
        result["deleted"], touched, moved = _delete(ids=matched, now=now)
        announce_transactions_changed(
            user_id=user.pk, action="deleted", categories=categories | moved, transaction_ids=touched
        )
        return result

    # Each changed field: one UPDATE of the rows whose value differs, one audit
    # INSERT ... SELECT; a new category also one INSERT of the corrections.
    if "category" in set:
        new = set["category"]
        moved = [(tx_id, old) for tx_id, old, *_ in rows if old != new]
        if moved:
            moved_ids, olds = [tx_id for tx_id, _ in moved], [old for _, old in moved]
            _update(moved_ids, "category = %s, confidence = %s", [new, _USER_CONFIDENCE], now)
            _corrections_insert(user=user, ids=moved_ids, olds=olds, new=new, at=now)
            changes_record_column(moved_ids, olds, field="category", new=new, by=By.USER, actor=user,
                                  reason=REASON, at=now)  # fmt: skip
            categories.add(new)
        result["changed"]["category"] = len(moved)
    if "notes" in set:
        notes = set["notes"]
        edited = [(tx_id, old) for tx_id, _, old, *_ in rows if old != notes]
        if edited:
            edited_ids = [tx_id for tx_id, _ in edited]
            _update(edited_ids, "notes = %s", [notes], now)
            changes_record_column(edited_ids, [old for _, old in edited], field="notes", new=notes, by=By.USER,
                                  actor=user, reason=REASON, at=now)  # fmt: skip
        result["changed"]["notes"] = len(edited)
    if account is not None:
        moving = [(tx_id, old, batch) for tx_id, _, _, old, batch in rows if old != account.id]
        if any(batch for _, _, batch in moving):
            raise Conflict("An anchored transaction's account is final.", code="anchored")
        moving_ids = [tx_id for tx_id, _, _ in moving]
        _check_movable(ids=moving_ids, account=account)
        if moving:
            _update(moving_ids, "account_id = %s", [account.id], now)
            changes_record_column(moving_ids, [old for _, old, _ in moving], field="account", new=account.id,
                                  by=By.USER, actor=user, reason=REASON, at=now)  # fmt: skip
        result["changed"]["account"] = len(moving)
    if set.get("tags_add") or set.get("tags_remove"):
        add = tags_resolve(user=user, names=set.get("tags_add") or [])
        remove = tags_resolve(user=user, names=set.get("tags_remove") or [], create=False, missing_ok=True)
        result["changed"]["tags"] = transaction_tags_change(
            transaction_ids=matched, add=add, remove=remove, by=By.USER, actor=user
        )
    announce_transactions_changed(user_id=user.pk, action="updated", categories=categories, transaction_ids=matched)
    return result


def _delete(*, ids, now) -> tuple[int, list, set]:
    """The single delete's rules for many rows in a few statements: a
    reconciled row is refused (409 `reconciled`, nothing deleted); a
    transfer leg ends its transfer: one the user entered loses both legs,
    a matched one is unlinked and its other leg stays.
    -> (rows deleted, rows whose state changed, categories whose totals moved)."""
    transfers = list(Transfer.objects.filter(Q(out_leg_id__in=ids) | Q(in_leg_id__in=ids)))
    doomed = set(ids)
    for transfer in transfers:
        if transfer.created_by == Transfer.CreatedBy.USER:
            doomed |= {transfer.out_leg_id, transfer.in_leg_id}
    reject_reconciled_delete(Transaction.objects.filter(_id_any(doomed)))
    touched = doomed | {leg for transfer in transfers for leg in (transfer.out_leg_id, transfer.in_leg_id)}
    categories = transfers_unlink(transfers=transfers)
    deleted = Transaction.objects.filter(_id_any(doomed), is_deleted=False).update(
        is_deleted=True, deleted_at=now, updated_at=now
    )
    return deleted, sorted(touched, key=str), categories


REASON = "bulk edit"
_USER_CONFIDENCE = json.dumps({"category": 1.0, "method": "user"})
_TX_TABLE = Transaction._meta.db_table


def _id_any(ids) -> RawSQL:
    return RawSQL(f'"{_TX_TABLE}"."id" = ANY(%s::uuid[])', [list(ids)], output_field=BooleanField())


def _update(ids, assignments: str, params: list, now) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TX_TABLE} SET {assignments}, updated_at = %s WHERE id = ANY(%s::uuid[])",
            [*params, now, list(ids)],
        )


def _corrections_insert(*, user, ids, olds, new, at) -> None:
    """One CategoryCorrection per row whose category the edit changed (they
    teach categorisation and rule suggestions), in one statement; ids in
    time order, as the audit's (config.ids.ordered_ids)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CategoryCorrection._meta.db_table} "
            "(id, transaction_id, user_id, old_category, new_category, reason, created_at) "
            "SELECT v.id, v.tx, %s, v.old, %s, %s, %s "
            "FROM unnest(%s::uuid[], %s::uuid[], %s::text[]) AS v(id, tx, old)",
            [user.pk, new, REASON, at, ordered_ids(len(ids)), list(ids), list(olds)],
        )


def _check_movable(*, ids, account: Account) -> None:
    """The account rules of a single edit, for many rows at once (one query
    each): a reconciled row keeps its account (it is part of a balance
    agreed with a statement), a row keeps its currency (the account's), and
    a transfer leg never joins its other leg's account."""
    moving = Transaction.objects.filter(_id_any(ids))
    reconciled = list(moving.filter(reconciled_at__isnull=False).values_list("id", flat=True)[:10])
    if reconciled:
        raise Conflict(
            "Reconciled transactions keep their account; undo the reconciliation first.",
            code=RECONCILED_CODE,
            fields=["account"],
            transaction_ids=[str(tx_id) for tx_id in reconciled],
        )
    through = account_reconciled_through(account.pk)
    if through is not None and moving.filter(date__lte=through).exists():
        raise Conflict(
            f"The account {account.name} is reconciled to {through.isoformat()}; rows dated on or before it "
            "cannot move there. Undo the reconciliation first.",
            code=RECONCILED_CODE,
            fields=["account"],
            reconciled_through=through.isoformat(),
        )
    if moving.exclude(currency=account.currency).exists():
        raise DomainError(
            f"The account {account.name} is in {account.currency}; only {account.currency} rows can move there.",
            code="currency_mismatch",
        )
    joins_other_leg = moving.filter(transfer__isnull=False).filter(
        Q(transfer__out_leg__account=account) | Q(transfer__in_leg__account=account)
    )
    if joins_other_leg.exists():
        raise DomainError("A transfer's two legs stay in two different accounts.", code="same_account")
