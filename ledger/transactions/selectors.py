"""Every ledger read. Deleted rows are invisible here except through
`transaction_get_any` (restore) and admin."""

from decimal import Decimal

from django.db.models import Sum

from config.errors import Invalid, NotFound
from config.selectors import get_or_not_found
from ledger.models import Account, Transaction
from ledger.transactions.filters import TransactionFilterSet

# The columns the list, detail and export read (one LEFT JOIN for the merchant).
ROW_FIELDS = (
    "id",
    "account_id",
    "kind",
    "transfer_id",
    "reconciled_at",
    "amount",
    "currency",
    "date",
    "merchant_raw",
    "merchant_id",
    "merchant__canonical_name",
    "merchant__category",
    "category",
    "source",
    "notes",
    "external_id",
    "confidence",
    "anomaly_score",
    "created_at",
    "updated_at",
)


def transaction_list(*, user, filters=None):
    """The caller's live transactions, newest first; `filters` are the list's
    query parameters (TransactionFilterSet), invalid ones a 400."""
    queryset = Transaction.objects.filter(user=user, is_deleted=False).order_by("-date", "-id")
    if filters is None:
        return queryset
    filterset = TransactionFilterSet(data=filters, queryset=queryset)
    if not filterset.is_valid():
        raise Invalid(filterset.errors)
    account_id = filterset.form.cleaned_data.get("account")
    if account_id and not Account.objects.filter(user=user, id=account_id).exists():
        raise NotFound("Account not found.")  # someone else's account is a 404, not an empty list
    return filterset.qs


def transaction_rows(queryset):
    """The queryset as plain dicts (no model instances: the list's hot path)."""
    return queryset.values(*ROW_FIELDS)


def transaction_get(*, user, transaction_id) -> Transaction:
    queryset = Transaction.objects.select_related("merchant").filter(user=user, is_deleted=False)
    return get_or_not_found(queryset, "Transaction not found.", id=transaction_id)


def transaction_get_any(*, user, transaction_id) -> Transaction:
    """Including soft-deleted rows: only for restore."""
    queryset = Transaction.objects.select_related("merchant").filter(user=user)
    return get_or_not_found(queryset, "Transaction not found.", id=transaction_id)


def category_totals(*, user, since, until) -> dict[str, Decimal]:
    """Net spending per category over live rows (refunds, being negative, lower it)."""
    rows = (
        Transaction.objects.filter(
            user=user, is_deleted=False, kind=Transaction.Kind.STANDARD, date__gte=since, date__lte=until
        )
        .values("category")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    return {row["category"]: row["total"] for row in rows}
