"""The account rules every transaction write obeys, callable from the
transactions and imports rooms without importing books.services (which
itself builds on the transaction services)."""

from django.db import IntegrityError
from django.db import transaction as db_transaction
from django.db.models import Max

from config.exceptions import Conflict, DomainError
from ledger.models import Account, Reconciliation, Transaction

# Fields a reconciled row keeps: changing one would silently move a balance
# the user already agreed with a statement.
RECONCILED_FIELDS = ("amount", "date", "account")
RECONCILED_CODE = "reconciled"
# How many reconciled rows a refused delete names (an import revert may hold thousands).
RECONCILED_LISTED = 100


def user_default_currency(user) -> str:
    prefs = getattr(user, "preferences", None) or {}
    return str(prefs.get("currency") or "USD")[:3].upper()


def account_default(*, user, currency: str) -> Account:
    """The user's default account for a currency, created on first use.
    The partial unique constraint (one default per user and currency)
    settles a race between two first transactions: the loser reads the
    winner's row."""
    currency = currency.upper()
    found = Account.objects.filter(user=user, currency=currency, is_default=True).first()
    if found:
        return found
    name = f"Main {currency}"
    taken = {n.lower() for n in Account.objects.filter(user=user).values_list("name", flat=True)}
    suffix = 2
    while name.lower() in taken:
        name, suffix = f"Main {currency} {suffix}", suffix + 1
    try:
        with db_transaction.atomic():
            return Account.objects.create(user=user, name=name, currency=currency, is_default=True)
    except IntegrityError:
        return Account.objects.get(user=user, currency=currency, is_default=True)


def account_check_open(account: Account) -> None:
    if account.closed_at is not None:
        raise Conflict(f"The account {account.name} is closed.", code="account_closed")


def account_for_new_transaction(*, user, account: Account | None, currency: str | None) -> Account:
    """The account a new row goes to: the given one (open, same currency as
    the row) or the user's default account for the row's currency."""
    if account is None:
        account = account_default(user=user, currency=currency or user_default_currency(user))
    elif account.user_id != user.pk:
        raise DomainError("Unknown account.", code="not_found")
    account_check_open(account)
    if currency and currency.upper() != account.currency:
        raise DomainError(
            f"The account {account.name} is in {account.currency}; the transaction says {currency.upper()}.",
            code="currency_mismatch",
        )
    return account


def reject_reconciled_changes(*, transaction: Transaction, changes: dict) -> None:
    if transaction.reconciled_at is None:
        return
    changed = []
    for name in RECONCILED_FIELDS:
        if name not in changes:
            continue
        current = transaction.account_id if name == "account" else getattr(transaction, name)
        value = changes[name].pk if name == "account" and isinstance(changes[name], Account) else changes[name]
        if value != current:
            changed.append(name)
    if changed:
        raise Conflict(
            f"This transaction is reconciled ({', '.join(changed)} cannot change). Undo the reconciliation first.",
            code=RECONCILED_CODE,
            fields=changed,
        )


def account_reconciled_through(account_id):
    """The date the account's newest reconciliation reached (None when never reconciled)."""
    return Reconciliation.objects.filter(account_id=account_id).aggregate(through=Max("date"))["through"]


def reject_reconciled_period(*, account: Account, dates) -> None:
    """A row that appears on or before the date an account was reconciled
    to (created, restored, moved there by a date or account change,
    imported) would silently change a balance the user agreed with a
    statement, just as editing a reconciled row would: refuse (409
    `reconciled` with `reconciled_through`). Rows dated after it are free."""
    dates = [day for day in dates if day is not None]
    if not dates:
        return
    through = account_reconciled_through(account.pk)
    if through is not None and min(dates) <= through:
        raise Conflict(
            f"The account {account.name} is reconciled to {through.isoformat()}; a row dated "
            f"{min(dates).isoformat()} would change that balance. Undo the reconciliation first.",
            code=RECONCILED_CODE,
            fields=["date"],
            reconciled_through=through.isoformat(),
        )


def reject_reconciled_delete(rows) -> None:
    """Deleting a reconciled row would silently move a balance the user
    agreed with a statement: refuse (409 `reconciled`) naming the rows
    (the first RECONCILED_LISTED by date, and how many there are), whether
    one row is deleted, many at once, or an import is reverted. `rows` is
    a queryset of the transactions about to be deleted."""
    reconciled = rows.filter(reconciled_at__isnull=False, is_deleted=False)
    listed = [
        str(tx_id) for tx_id in reconciled.order_by("date", "id").values_list("id", flat=True)[: RECONCILED_LISTED + 1]
    ]
    if not listed:
        return
    count = reconciled.count() if len(listed) > RECONCILED_LISTED else len(listed)
    detail = (
        "This transaction is reconciled and cannot be deleted."
        if count == 1
        else f"{count} of these transactions are reconciled and cannot be deleted."
    )
    raise Conflict(
        f"{detail} Undo the reconciliation first.",
        code=RECONCILED_CODE,
        fields=["deleted"],
        transaction_ids=listed[:RECONCILED_LISTED],
        reconciled_count=count,
    )


def transfer_leg_sync(*, transaction: Transaction, changes: dict) -> list[Transaction]:
    """Keep a transfer's two legs consistent when one is edited: a new date
    moves both; a new amount in one currency gives the other leg the
    opposite amount; across currencies the amount cannot be inferred (409:
    unlink, edit, match again). -> [the other leg] when it changed."""
    if transaction.transfer_id is None:
        return []
    new_amount = changes.get("amount", transaction.amount)
    new_date = changes.get("date", transaction.date)
    if new_amount == transaction.amount and new_date == transaction.date:
        return []
    transfer = transaction.transfer
    other_id = transfer.in_leg_id if transfer.out_leg_id == transaction.id else transfer.out_leg_id
    other = Transaction.objects.select_for_update(of=("self",)).get(pk=other_id)
    other_changes = {}
    if new_amount != transaction.amount:
        if other.currency != transaction.currency:
            raise Conflict(
                "This leg belongs to a cross-currency transfer; unlink it to change its amount.",
                code="transfer_leg",
            )
        if (new_amount > 0) != (transaction.amount > 0):
            raise Conflict("A transfer leg keeps its direction.", code="transfer_leg")
        other_changes["amount"] = -new_amount
    if new_date != transaction.date:
        other_changes["date"] = new_date
    from ledger.anchoring.services import reject_anchored_changes

    reject_anchored_changes(transaction=other, changes=other_changes)
    reject_reconciled_changes(transaction=other, changes=other_changes)
    if "date" in other_changes:
        reject_reconciled_period(account=other.account, dates=[other_changes["date"]])
    for name, value in other_changes.items():
        setattr(other, name, value)
    other.save(update_fields=[*other_changes, "updated_at"])
    return [other]
