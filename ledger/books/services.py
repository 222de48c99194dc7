"""Writes for accounts, transfers and reconciliation."""

import datetime
from decimal import Decimal

import schwifty
from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.utils import timezone

from config.exceptions import Conflict, DomainError, Invalid
from ledger.books import matching, selectors
from ledger.books.currencies import is_currency
from ledger.books.guards import account_check_open, reject_reconciled_period
from ledger.events import announce_transactions_changed
from ledger.models import Account, Reconciliation, Transaction, Transfer, TransferSuggestion
from ledger.transactions.services import transaction_prepare
from merchants.categories import Category

EDITABLE_FIELDS = (
    "name",
    "kind",
    "currency",
    "institution",
    "number_mask",
    "iban",
    "opening_balance",
    "opening_date",
    "on_budget",
    "include_in_net_worth",
    "is_default",
)


def _clean(fields: dict) -> dict:
    if "currency" in fields:
        fields["currency"] = fields["currency"].upper()
        if not is_currency(fields["currency"]):
            raise Invalid(
                f"{fields['currency']} is not an ISO 4217 currency code.", code="invalid_currency", attr="currency"
            )
    if fields.get("iban"):
        try:
            fields["iban"] = schwifty.IBAN(fields["iban"]).compact
        except (ValueError, schwifty.exceptions.SchwiftyException) as exc:
            raise Invalid(f"Invalid IBAN: {exc}", code="invalid_iban", attr="iban")
    if fields.get("number_mask") and not (fields["number_mask"].isdigit() and len(fields["number_mask"]) == 4):
        raise Invalid(
            "number_mask is the last 4 digits of the account number.", code="invalid_number_mask", attr="number_mask"
        )
    if "name" in fields:
        fields["name"] = fields["name"].strip()
        if not fields["name"]:
            raise Invalid("The name must not be blank.", code="blank", attr="name")
    return fields


def _name_taken(*, user, name: str, exclude_id=None) -> None:
    others = Account.objects.filter(user=user, name__iexact=name)
    if exclude_id:
        others = others.exclude(id=exclude_id)
    existing = others.values_list("id", flat=True).first()
    if existing:
        raise Conflict(f"You already have an account named {name}.", code="name_taken", existing_id=str(existing))


def _take_default(account: Account) -> None:
    """Make `account` the one default of its user and currency."""
    Account.objects.select_for_update().filter(user_id=account.user_id, currency=account.currency).exclude(
        id=account.id
    ).filter(is_default=True).update(is_default=False, updated_at=timezone.now())


def _save(account: Account, **kwargs) -> None:
    try:
        with db_transaction.atomic():
            account.save(**kwargs)
    except IntegrityError:
        raise Conflict("Another account took this name or default at the same time; retry.", code="conflict")


@db_transaction.atomic
def account_create(*, user, **fields) -> Account:
    fields = _clean({name: value for name, value in fields.items() if name in EDITABLE_FIELDS})
    _name_taken(user=user, name=fields["name"])
    account = Account(user=user, **fields)
    if account.is_default:
        _take_default(account)
    _save(account, force_insert=True)
    return account


def _pass_default_on(*, user_id, currency: str, leaving: Account) -> None:
    """The default of a currency leaves `leaving` (closed, deleted or moved
    to another currency): the oldest other open account in that currency
    takes it, so new rows without an account keep landing in a real
    account instead of a new "Main" one."""
    heir = (
        Account.objects.select_for_update()
        .filter(user_id=user_id, currency=currency, closed_at__isnull=True)
        .exclude(id=leaving.id)
        .order_by("created_at", "id")
        .first()
    )
    if heir is not None:
        heir.is_default = True
        heir.save(update_fields=["is_default", "updated_at"])


def _check_closable(account: Account, *, force: bool) -> None:
    balance = selectors.account_balance(account)
    if balance != 0 and not force:
        raise Conflict(
            f"The account's balance is {balance:.2f} {account.currency}; close it with force=true.",
            code="non_zero_balance",
            balance=f"{balance:.2f}",
        )


def _close(account: Account) -> None:
    """Closed: its rows stay, it takes no new ones, and it is no longer the default."""
    was_default = account.is_default
    account.closed_at = timezone.now()
    account.is_default = False
    account.save(update_fields=["closed_at", "is_default", "updated_at"])
    if was_default:
        _pass_default_on(user_id=account.user_id, currency=account.currency, leaving=account)


@db_transaction.atomic
def account_update(*, account: Account, force: bool = False, **changes) -> Account:
    """Edit an account. Its currency can change only while it holds no
    rows (they carry the currency). `closed: true` closes it under the
    rules of a close (a non-zero balance needs force), `closed: false`
    reopens it. `is_default: true` takes the default of its currency from
    the account that had it; the default cannot be dropped by itself (make
    another account the default instead), so each currency keeps one.
    An on_budget change moves budget figures: budgets hear of it like of
    any ledger write."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    close = changes.pop("closed", None)
    changes = _clean({name: value for name, value in changes.items() if name in EDITABLE_FIELDS})
    if "name" in changes and changes["name"].lower() != account.name.lower():
        _name_taken(user=account.user, name=changes["name"], exclude_id=account.id)
    old_currency, was_default, was_on_budget = account.currency, account.is_default, account.on_budget
    if changes.get("currency", old_currency) != old_currency and not selectors.account_is_empty(account):
        raise Conflict("The account holds transactions; its currency cannot change.", code="currency_locked")
    if was_default and changes.get("is_default") is False and close is not True:
        raise Conflict(
            f"{account.name} is your default {account.currency} account; make another account the default instead.",
            code="default_required",
        )
    for name, value in changes.items():
        setattr(account, name, value)
    if close is False:
        account.closed_at = None
    if close is True and changes.get("is_default"):
        raise Conflict("A closed account cannot be the default.", code="account_closed")
    if account.is_default and close is not True:
        if account.closed_at is not None:
            raise Conflict("A closed account cannot be the default.", code="account_closed")
        _take_default(account)
    _save(account)
    if was_default and account.currency != old_currency:
        _pass_default_on(user_id=account.user_id, currency=old_currency, leaving=account)
    if close is True and account.closed_at is None:
        _check_closable(account, force=force)
        _close(account)
    if account.on_budget != was_on_budget:
        categories = set(selectors.account_categories(account))
        if categories:
            announce_transactions_changed(user_id=account.user_id, action="updated", categories=categories)
    return account


@db_transaction.atomic
def account_delete(*, account: Account, force: bool = False) -> Account | None:
    """Delete an account that never held a row; otherwise close it (its
    rows stay, it takes no new ones). Closing with money still in it (or
    owed on it) needs force. -> None when deleted, the closed account otherwise."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    if selectors.account_is_empty(account):
        was_default = account.is_default
        account.delete()
        if was_default:
            _pass_default_on(user_id=account.user_id, currency=account.currency, leaving=account)
        return None
    _check_closable(account, force=force)
    if account.closed_at is None:
        _close(account)
    return account


def _announce(*, user, ids, categories) -> None:
    rows = list(Transaction.objects.select_related("merchant").filter(id__in=list(ids)))
    announce_transactions_changed(user_id=user.pk, action="updated", categories=categories, transactions=rows)


@db_transaction.atomic
def transfer_create(
    *,
    user,
    from_account: Account,
    to_account: Account,
    amount: Decimal,
    date: datetime.date,
    to_amount: Decimal | None = None,
    notes: str = "",
) -> Transfer:
    """Both legs at once: `amount` out of from_account, `to_amount` (in
    to_account's currency; required across currencies) into to_account."""
    if from_account.user_id != user.pk or to_account.user_id != user.pk:
        raise DomainError("Both accounts must be yours.", code="foreign_account")
    if from_account.pk == to_account.pk:
        raise DomainError("A transfer needs two different accounts.", code="same_account")
    if amount <= 0 or (to_amount is not None and to_amount <= 0):
        raise DomainError("A transfer moves a positive amount.", code="amount_not_positive")
    if from_account.currency == to_account.currency:
        if to_amount is not None and to_amount != amount:
            raise DomainError("In one currency to_amount must equal amount (or be left out).", code="amount_mismatch")
        to_amount = amount
    elif to_amount is None:
        raise DomainError(
            f"{from_account.currency} to {to_account.currency}: give to_amount, what arrived.",
            code="to_amount_required",
        )
    for account in sorted((from_account, to_account), key=lambda a: a.pk):
        account_check_open(Account.objects.select_for_update().get(pk=account.pk))
        reject_reconciled_period(account=account, dates=[date])
    legs = []
    for account, value, label in (
        (from_account, amount, f"Transfer to {to_account.name}"),
        (to_account, -to_amount, f"Transfer from {from_account.name}"),
    ):
        leg = transaction_prepare(
            user=user, account=account, amount=value, date=date, merchant_raw=label, category=Category.TRANSFERS
        )
        leg.notes = notes or ""
        leg.kind = Transaction.Kind.TRANSFER
        leg.save(force_insert=True)
        legs.append(leg)
    transfer = Transfer.objects.create(
        user=user,
        out_leg=legs[0],
        in_leg=legs[1],
        created_by=Transfer.CreatedBy.USER,
        out_category=Category.TRANSFERS,
        in_category=Category.TRANSFERS,
    )
    Transaction.objects.filter(id__in=[leg.id for leg in legs]).update(transfer=transfer)
    for leg in legs:
        leg.transfer = transfer
    announce_transactions_changed(user_id=user.pk, action="created", categories={Category.TRANSFERS}, transactions=legs)
    return transfer


@db_transaction.atomic
def transfer_match(*, user, out_id, in_id) -> Transfer:
    """The user links two existing rows (a suggestion or any pair). Recorded
    as a match, like one matching made: the legs are two rows the user
    entered or imported on their own, so deleting one unlinks the transfer
    and the other stays (only a transfer made by transfer_create loses both
    legs)."""
    transfer, categories = matching.transfer_link(
        user=user, out_id=out_id, in_id=in_id, created_by=Transfer.CreatedBy.MATCH
    )
    _announce(user=user, ids=[out_id, in_id], categories=categories)
    return transfer


@db_transaction.atomic
def transfer_delete(*, transfer: Transfer, user) -> None:
    """Unlink: both legs stay, as standard rows with their earlier categories."""
    transfer = Transfer.objects.select_for_update().get(pk=transfer.pk)
    ids = [transfer.out_leg_id, transfer.in_leg_id]
    categories = matching.transfer_unlink(transfer=transfer)
    _announce(user=user, ids=ids, categories=categories)


@db_transaction.atomic
def suggestion_reject(*, suggestion: TransferSuggestion) -> TransferSuggestion:
    """Remembered: matching never suggests or links this pair again."""
    suggestion = TransferSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if suggestion.status != TransferSuggestion.Status.REJECTED:
        suggestion.status = TransferSuggestion.Status.REJECTED
        suggestion.save(update_fields=["status", "updated_at"])
    return suggestion


@db_transaction.atomic
def account_reconcile(*, account: Account, user, date: datetime.date, balance: Decimal) -> dict:
    """Agree the account with a statement: live rows up to `date` become
    reconciled; a difference between the statement's balance and Tally's
    becomes one adjustment row (never spending) dated `date`."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    last = account.reconciliations.order_by("-reconciled_at").first()
    if last and date < last.date:
        raise DomainError(f"The last reconciliation was up to {last.date}; pick a later date.", code="before_last")
    tally = selectors.account_balance(account, on=date)
    difference = balance - tally
    now = timezone.now()
    adjustment = None
    if difference:
        account_check_open(account)
        adjustment = transaction_prepare(
            user=user,
            account=account,
            amount=-difference,
            date=date,
            merchant_raw="Reconciliation adjustment",
            category=Category.UNCATEGORIZED,
        )
        adjustment.kind = Transaction.Kind.ADJUSTMENT
        adjustment.save(force_insert=True)
    marked = Transaction.objects.filter(
        account=account, is_deleted=False, date__lte=date, reconciled_at__isnull=True
    ).update(reconciled_at=now)
    reconciliation = Reconciliation.objects.create(
        account=account,
        date=date,
        statement_balance=balance,
        difference=difference,
        adjustment=adjustment,
        reconciled_at=now,
    )
    if adjustment:
        adjustment.reconciled_at = now
        announce_transactions_changed(user_id=user.pk, action="created", categories=set(), transactions=[adjustment])
    return {
        "id": reconciliation.id,
        "date": date,
        "statement_balance": balance,
        "balance_before": tally,
        "difference": difference,
        "adjustment_id": adjustment.id if adjustment else None,
        "reconciled_count": marked,
    }


@db_transaction.atomic
def reconciliation_undo(*, account: Account, user) -> dict:
    """Undo the newest reconciliation: its rows are unreconciled and its
    adjustment row is soft-deleted."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    last = account.reconciliations.order_by("-reconciled_at").first()
    if last is None:
        raise Conflict("This account has no reconciliation to undo.", code="not_reconciled")
    count = Transaction.objects.filter(account=account, reconciled_at=last.reconciled_at).update(reconciled_at=None)
    if last.adjustment_id:
        Transaction.objects.filter(id=last.adjustment_id).update(
            is_deleted=True, deleted_at=timezone.now(), updated_at=timezone.now()
        )
        adjustment = Transaction.objects.get(id=last.adjustment_id)
        announce_transactions_changed(user_id=user.pk, action="deleted", categories=set(), transactions=[adjustment])
    undone = {"id": last.id, "date": last.date, "unreconciled_count": count, "adjustment_id": last.adjustment_id}
    last.delete()
    return undone
