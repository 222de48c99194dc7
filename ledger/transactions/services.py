"""Every ledger write. One creation path (`transaction_prepare` +
duplicate check + save) serves the API, CSV import and future OCR/SMS
sources; every write announces itself once, after commit, through
`ledger.events.announce_transactions_changed`."""

import re
from decimal import Decimal

from django.db import transaction as db_transaction
from django.utils import timezone

from config.exceptions import Conflict, DomainError
from ledger.anchoring.services import reject_anchored_changes
from ledger.books import matching
from ledger.books.guards import (
    account_for_new_transaction,
    reject_reconciled_changes,
    reject_reconciled_delete,
    reject_reconciled_period,
    transfer_leg_sync,
)
from ledger.currency.services import transaction_refresh_conversion
from ledger.errors import LedgerErrorCode
from ledger.events import announce_transactions_changed
from ledger.models import CategoryCorrection, Transaction
from ledger.rules.engine import rules_run_on_new
from ledger.transactions.audit import By, Change, changes_record
from ledger.transactions.tags import tags_resolve, transaction_tags_change
from merchants.categories import Category
from merchants.services import match_merchant, match_merchants, normalize_merchant_text

# Wording banks use for pay, pensions, interest and dividends (English, German,
# Dutch, French, Spanish, Italian). Money in with no better category that says
# one of these is Income: otherwise a salary sits in Uncategorized and cash
# flow shows no income at all.
INCOME_WORDING = re.compile(
    r"\b(payroll|salary|salaries|wages?|paycheck|pay ?check|direct dep(osit)?|dir dep|pension|annuity|dividends?"
    r"|interest (paid|payment|earned|credit)|credit interest|gehalt|lohn|bezüge|rente|salaris|loon|uitkering"
    r"|salaire|paie|pension de retraite|nómina|nomina|sueldo|stipendio|retribuzione)\b",
    re.IGNORECASE,
)


def income_by_wording(*texts: str) -> bool:
    return any(text and INCOME_WORDING.search(text) for text in texts)


class CategoryResolver:
    """Picks a category for new transactions of one user: the user's own
    latest correction for that merchant wins, then the matched merchant's
    category, then Income for money in whose wording says pay (INCOME_WORDING),
    else Uncategorized. Merchant matches are cached per normalised
    text so an import does one lookup per distinct merchant, not per row."""

    def __init__(self, user):
        self.user = user
        self._matches: dict[str, object] = {}
        self._by_merchant: dict | None = None
        self._by_text: dict | None = None

    def _load_corrections(self):
        self._by_merchant, self._by_text = {}, {}
        rows = (
            CategoryCorrection.objects.filter(user=self.user)
            .order_by("created_at")
            .values_list("transaction__merchant_id", "transaction__merchant_normalized", "new_category")
        )
        for merchant_id, text, category in rows:  # later corrections overwrite earlier ones
            if merchant_id:
                self._by_merchant[merchant_id] = category
            if text:
                self._by_text[text] = category

    def prefetch(self, raw_texts) -> None:
        """Match many merchant strings at once (an import's distinct payees):
        two SQL statements instead of one per text."""
        missing = {text for text in raw_texts if normalize_merchant_text(text) not in self._matches}
        if missing:
            self._matches.update(match_merchants(missing))

    def match(self, normalized: str, raw: str):
        if normalized not in self._matches:
            self._matches[normalized] = match_merchant(raw) if normalized else None
        return self._matches[normalized]

    def resolve(self, *, normalized: str, raw: str, explicit: str | None = None, money_in: bool = False,
                notes: str = ""):  # fmt: skip
        """-> (merchant or None, category, confidence dict)"""
        found = self.match(normalized, raw)
        merchant = found.merchant if found else None
        if explicit:
            return merchant, explicit, {"category": 1.0, "method": "user"}
        if self._by_merchant is None:
            self._load_corrections()
        corrected = (merchant and self._by_merchant.get(merchant.id)) or self._by_text.get(normalized)
        if corrected:
            return merchant, corrected, {"category": 0.97, "method": "user_history"}
        if merchant and merchant.category != Category.UNCATEGORIZED:
            return (
                merchant,
                merchant.category,
                {"category": round(found.score, 2), "method": f"merchant_{found.method}"},
            )
        if money_in and income_by_wording(raw, notes):
            return merchant, Category.INCOME, {"category": 0.8, "method": "income_wording"}
        return merchant, Category.UNCATEGORIZED, {"category": 0.0, "method": "default"}


def transaction_prepare(
    *,
    user,
    amount: Decimal,
    date,
    merchant_raw: str,
    currency: str | None = None,
    account=None,
    category: str | None = None,
    notes: str = "",
    source: str = Transaction.Source.MANUAL,
    external_id: str = "",
    resolver: CategoryResolver | None = None,
) -> Transaction:
    """An unsaved Transaction with account, merchant, category and
    confidence filled in. Without an account the row goes to the user's
    default account for its currency; with one, the currencies must agree."""
    account = account_for_new_transaction(user=user, account=account, currency=currency)
    resolver = resolver or CategoryResolver(user)
    merchant_raw = merchant_raw.strip()
    normalized = normalize_merchant_text(merchant_raw)
    merchant, picked, confidence = resolver.resolve(
        normalized=normalized, raw=merchant_raw, explicit=category, money_in=amount < 0, notes=notes or ""
    )
    return Transaction(
        user=user,
        account=account,
        amount=amount,
        currency=account.currency,
        date=date,
        merchant_raw=merchant_raw,
        merchant_normalized=normalized,
        merchant=merchant,
        category=picked,
        confidence=confidence,
        notes=notes or "",
        source=source,
        external_id=external_id or "",
    )


def _default_currency(user) -> str:
    prefs = getattr(user, "preferences", None) or {}
    return str(prefs.get("currency") or "USD")[:3]


def transaction_find_duplicate(*, user, amount, date, merchant_normalized, exclude_id=None):
    qs = (
        Transaction.objects.live()
        .for_user(user)
        .filter(amount=amount, date=date, merchant_normalized=merchant_normalized)
    )
    if exclude_id:
        qs = qs.exclude(id=exclude_id)
    return qs.order_by("created_at", "id").values_list("id", flat=True).first()


@db_transaction.atomic
def transaction_create(*, user, allow_duplicate: bool = False, tags=(), **fields) -> Transaction:
    """Create one transaction (manual, OCR, SMS). A likely duplicate (same
    amount, date and normalised merchant among live rows) is a 409 carrying
    the existing id, unless allow_duplicate. The user's rules run after
    merchant matching; a category given here is the user's and no rule
    overrides it."""
    tx = transaction_prepare(user=user, **fields)
    reject_reconciled_period(account=tx.account, dates=[tx.date])
    if not allow_duplicate:
        existing = transaction_find_duplicate(
            user=user, amount=tx.amount, date=tx.date, merchant_normalized=tx.merchant_normalized
        )
        if existing:
            raise Conflict(
                "A transaction with the same amount, date and merchant already exists.",
                code=LedgerErrorCode.DUPLICATE,
                existing_id=str(existing),
            )
    tag_objects = tags_resolve(user=user, names=tags) if tags else []
    outcome = rules_run_on_new(user=user, transactions=[tx], tags={tx.id: [t.name for t in tag_objects]})
    tx.save(force_insert=True)
    if tag_objects:
        transaction_tags_change(transaction_ids=[tx.id], add=tag_objects, by=By.USER, actor=user)
    outcome.write()
    categories, rows = {tx.category}, [tx]
    # Matching runs before the event, so budgets never see a card payment as spending first.
    transfers = matching.transfers_match(user=user, transaction_ids=[tx.id])
    if transfers.transfers or outcome.linked.transfers:  # matched here, or by a rule's mark_transfer
        categories |= transfers.categories | outcome.linked.categories
        touched = transfers.touched_ids | outcome.linked.touched_ids | {tx.id}
        rows = list(Transaction.objects.select_related("merchant").filter(id__in=touched))
        tx = next(row for row in rows if row.id == tx.id)
    announce_transactions_changed(user_id=user.pk, action="created", categories=categories, transactions=rows)
    return tx


def _lock(tx: Transaction) -> Transaction:
    return Transaction.objects.select_for_update(of=("self",)).select_related("merchant").get(pk=tx.pk)


AUDITED_FIELDS = ("category", "merchant", "merchant_raw", "notes", "amount", "date")


@db_transaction.atomic
def transaction_update(
    *, transaction: Transaction, user, reason: str = "", by: str = By.USER, tags=None, **changes
) -> Transaction:
    """Edit notes, category, amount, date, merchant_raw or tags (a list of
    names, replacing the current ones). A category change counts as a
    correction (it teaches the next transaction from the same merchant) and
    marks the category as set by hand, which no rule overrides; a
    merchant_raw change re-matches the merchant. Once anchored, amount, date
    and merchant text are final (409). Every changed field is audited."""
    tx = _lock(transaction)
    reject_anchored_changes(transaction=tx, changes=changes)
    reject_reconciled_changes(transaction=tx, changes=changes)
    if "date" in changes and changes["date"] != tx.date:
        reject_reconciled_period(account=tx.account, dates=[changes["date"]])
    paired = transfer_leg_sync(transaction=tx, changes=changes)
    before = {name: getattr(tx, name) for name in AUDITED_FIELDS if name != "merchant"}
    before["merchant"] = tx.merchant_id
    old_category = tx.category
    if "merchant_raw" in changes and changes["merchant_raw"].strip() != tx.merchant_raw:
        tx.merchant_raw = changes["merchant_raw"].strip()
        tx.merchant_normalized = normalize_merchant_text(tx.merchant_raw)
        found = CategoryResolver(user).match(tx.merchant_normalized, tx.merchant_raw)
        tx.merchant = found.merchant if found else None
    for name in ("notes", "amount", "date"):
        if name in changes:
            setattr(tx, name, changes[name])
    new_category = changes.get("category")
    if new_category and new_category != old_category:
        tx.category = new_category
        tx.confidence = {"category": 1.0, "method": "user"}
        CategoryCorrection.objects.create(
            transaction=tx, user=user, old_category=old_category, new_category=new_category, reason=reason or "edit"
        )
    tx.save()
    transaction_refresh_conversion(tx)  # the trigger reconverted amount or date
    after = {name: getattr(tx, name) for name in AUDITED_FIELDS if name != "merchant"}
    after["merchant"] = tx.merchant_id
    changes_record(
        [Change(tx.id, name, before[name], after[name]) for name in AUDITED_FIELDS],
        by=by,
        actor=user,
        reason=reason,
    )
    if tags is not None:
        transaction_tags_change(
            transaction_ids=[tx.id], replace=tags_resolve(user=tx.user, names=tags), by=by, actor=user
        )
    announce_transactions_changed(
        user_id=user.pk, action="updated", categories={old_category, tx.category}, transactions=[tx, *paired]
    )
    return tx


@db_transaction.atomic
def transaction_correct(*, transaction: Transaction, user, new_category: str, reason: str = "") -> dict:
    tx = _lock(transaction)
    old_category = tx.category
    if old_category == new_category:
        raise DomainError(f"The transaction is already in {new_category}.", code=LedgerErrorCode.UNCHANGED)
    transaction_update(transaction=tx, user=user, category=new_category, reason=reason)
    return {
        "message": f"Category changed from {old_category} to {new_category}.",
        "old_category": old_category,
        "new_category": new_category,
    }


@db_transaction.atomic
def transaction_delete(*, transaction: Transaction, user) -> Transaction:
    """Soft delete: hidden from lists, search, export and budgets; kept for
    restore. Deleting a transfer leg ends the transfer: a transfer the user
    entered loses both legs (they were made together); a matched one is
    unlinked and the other leg, a real bank row, stays as a standard row.
    A reconciled row (or the other leg it would take with it) is refused
    with 409 `reconciled`: undo the reconciliation first."""
    tx = _lock(transaction)
    if not tx.is_deleted:
        rows, categories = [tx], {tx.category}
        doomed = [tx.id]
        if tx.transfer_id and tx.transfer.created_by == tx.transfer.CreatedBy.USER:
            doomed += [tx.transfer.out_leg_id, tx.transfer.in_leg_id]
        reject_reconciled_delete(Transaction.objects.filter(id__in=doomed))
        if tx.transfer_id:
            transfer = tx.transfer
            other_id = transfer.in_leg_id if transfer.out_leg_id == tx.id else transfer.out_leg_id
            user_made = transfer.created_by == transfer.CreatedBy.USER
            categories |= matching.transfer_unlink(transfer=transfer)
            tx.refresh_from_db(fields=["kind", "transfer", "category"])
            other = _lock(Transaction(pk=other_id))
            if user_made and not other.is_deleted:
                other.is_deleted, other.deleted_at = True, timezone.now()
                other.save(update_fields=["is_deleted", "deleted_at", "updated_at"])
            rows.append(other)
        tx.is_deleted = True
        tx.deleted_at = timezone.now()
        tx.save(update_fields=["is_deleted", "deleted_at", "updated_at"])
        announce_transactions_changed(user_id=user.pk, action="deleted", categories=categories, transactions=rows)
    return tx


@db_transaction.atomic
def transaction_restore(*, transaction: Transaction, user) -> Transaction:
    tx = _lock(transaction)
    if tx.is_deleted:
        # Back into a reconciled period it would change the agreed balance (409 `reconciled`).
        reject_reconciled_period(account=tx.account, dates=[tx.date])
        tx.is_deleted = False
        tx.deleted_at = None
        tx.save(update_fields=["is_deleted", "deleted_at", "updated_at"])
        announce_transactions_changed(user_id=user.pk, action="restored", categories={tx.category}, transactions=[tx])
    return tx
