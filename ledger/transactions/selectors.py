"""Every ledger read. Deleted rows are invisible here except through
`transaction_get_any` (restore) and admin."""

import datetime
import functools
import hashlib
import threading
from decimal import Decimal

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import CharField, Count, F, IntegerField, Max, Min, QuerySet, Sum
from django.db.models.expressions import RawSQL

from config.cache import cache_get, cache_set
from config.errors import Invalid, NotFound
from config.selectors import get_or_not_found
from ledger.models import Account, Attachment, SplitLine, Tag, Transaction, TransactionChange
from ledger.transactions import list_sql
from ledger.transactions.filters import TransactionFilterSet
from ledger.transactions.list_sql import ListFilters
from merchants.models import Merchant

# The columns the list, detail and export read (one LEFT JOIN for the merchant).
ROW_FIELDS = (
    "id",
    "account_id",
    "kind",
    "transfer_id",
    "reconciled_at",
    "amount",
    "currency",
    "amount_base",
    "base_currency",
    "rate_date",
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
    queryset = Transaction.objects.live().for_user(user).order_by("-date", "-id")
    if filters is None:
        return queryset
    filterset = TransactionFilterSet(data=filters, queryset=queryset)
    if not filterset.is_valid():
        raise Invalid(filterset.errors)
    account_id = filterset.form.cleaned_data.get("account")
    if account_id and not Account.objects.filter(user=user, id=account_id).exists():
        raise NotFound("Account not found.")  # someone else's account is a 404, not an empty list
    return filterset.qs


COUNT_CACHE_SECONDS = 600
LOCAL_COUNTS_MAX = 4096
_LOCAL_COUNTS: dict[str, int] = {}
_LOCAL_COUNTS_LOCK = threading.Lock()


def ledger_version(*, user_id) -> int:
    """Moves on every statement that writes one of the user's transactions (a
    trigger, migration 0018), including COPY and raw SQL; 0 before the first."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM ledger_count_version WHERE user_id = %s", [user_id])
        row = cursor.fetchone()
    return row[0] if row else 0


def transaction_count(count, *, user_id, shape: str) -> int:
    """The exact count of one user's (filtered) transactions, ``count()``
    counted once per ledger version: the list's pages reuse it until a
    write to the user's rows moves the version. Only for filters on
    ledger_transaction's own columns (a tag or attachment change does not
    move the version). ``shape`` names the filter (the list's filter
    parameters: the same ones always count the same rows). A count is kept
    in Redis for every process and in this process's own small table in
    front of it (a key names one version, so neither can be stale; the
    table spares the Redis round trip, ~0.4 ms CPU a page); Redis away:
    counted once per process and version."""
    digest = hashlib.sha1(shape.encode()).hexdigest()
    key = f"ledger:count:{user_id}:{ledger_version(user_id=user_id)}:{digest}"
    counted = _LOCAL_COUNTS.get(key)
    if counted is None:
        counted = cache_get(key)
        if counted is None:
            counted = count()
            cache_set(key, counted, COUNT_CACHE_SECONDS)
        with _LOCAL_COUNTS_LOCK:
            if len(_LOCAL_COUNTS) >= LOCAL_COUNTS_MAX:
                del _LOCAL_COUNTS[next(iter(_LOCAL_COUNTS))]  # the oldest entry
            _LOCAL_COUNTS[key] = counted
    return counted


def transaction_list_filters(*, user, cleaned: dict | None) -> ListFilters:
    """The list's filters from a valid TransactionFilterSet's cleaned data
    (None: no filter parameter); someone else's account is a 404, as
    TransactionFilterSet.filter_account says."""
    if not cleaned:
        return ListFilters()
    filters = ListFilters.from_cleaned(cleaned)
    account_id = dict(filters.values).get("account")
    if account_id and not Account.objects.filter(user=user, id=account_id).exists():
        raise NotFound("Account not found.")
    return filters


def transaction_list_count(*, user, filters: ListFilters, cache_shape: str | None) -> int:
    """The list's count; with ``cache_shape`` (filters on ledger_transaction's
    own columns only) counted once per ledger version (transaction_count)."""
    count = functools.partial(list_sql.count, user_id=user.pk, filters=filters)
    if cache_shape is None:
        return count()
    return transaction_count(count, user_id=user.pk, shape=cache_shape)


def transaction_list_page(*, user, filters: ListFilters, offset: int, limit: int) -> list[dict]:
    """One offset page of the list as ROW_FIELDS dicts with attachment_count
    and tag_names (what transaction_rows gives for the same filters, the ids
    as strings: list_sql.ROW_NAMES)."""
    return list_sql.page_rows(user_id=user.pk, filters=filters, offset=offset, limit=limit, deep=offset >= DEEP_OFFSET)


def transaction_list_after(*, user, filters: ListFilters, after: tuple | None, limit: int) -> list[dict]:
    """A keyset page: the rows after ``after`` = (date, id) in the filters'
    date order (the first page without it)."""
    return list_sql.keyset_rows(user_id=user.pk, filters=filters, after=after, limit=limit)


# The row's attachment count and sorted tag names, correlated to the outer
# ledger_transaction row (evaluated for the rows a page returns). Written as
# SQL: the ORM's Subquery/ArraySubquery cost ~0.6 ms to build and compile on
# every page, for the same two fixed subqueries.
_TX = Transaction._meta.db_table
_ATTACHMENT_COUNT_SQL = f'(SELECT count(*) FROM "{Attachment._meta.db_table}" a WHERE a.transaction_id = "{_TX}".id)'
_TAG_NAMES_SQL = (
    f'ARRAY(SELECT t.name FROM "{Tag._meta.db_table}" t '
    f'JOIN "{Transaction.tags.through._meta.db_table}" tt ON tt.tag_id = t.id '
    f'WHERE tt.transaction_id = "{_TX}".id ORDER BY t.name)'
)


def attachment_count():
    """A correlated count, on a queryset of ledger_transaction itself."""
    return RawSQL(_ATTACHMENT_COUNT_SQL, (), output_field=IntegerField())


def tag_names_subquery():
    """The row's tag names, sorted, as one array column (on a queryset of ledger_transaction itself)."""
    return RawSQL(_TAG_NAMES_SQL, (), output_field=ArrayField(CharField()))


def transaction_rows(queryset):
    """The queryset as plain dicts (no model instances: the list's hot path)."""
    return queryset.annotate(attachment_count=attachment_count()).values(
        *ROW_FIELDS, "attachment_count", tag_names=tag_names_subquery()
    )


# From this offset on, a page's ids are chosen before its rows are read.
# PostgreSQL computes a row's select list (its attachment count and tag
# names, two subqueries) for every row an OFFSET skips when the index gives
# the order: 1.4 s at offset 50,000. Past DEEP_OFFSET the page's ids come
# first (the same walk of the index, without the subqueries) and only those
# rows are read (list_sql's deep statement).
DEEP_OFFSET = 500


def transaction_changes(*, transaction: Transaction):
    """The audit trail of one transaction, oldest first."""
    return (
        TransactionChange.objects.filter(transaction=transaction).select_related("actor").order_by("at", "field", "id")
    )


def transaction_get(*, user, transaction_id) -> Transaction:
    queryset = Transaction.objects.live().for_user(user).select_related("merchant")
    return get_or_not_found(queryset, "Transaction not found.", id=transaction_id)


def transaction_get_any(*, user, transaction_id) -> Transaction:
    """Including soft-deleted rows: only for restore."""
    queryset = Transaction.objects.select_related("merchant").filter(user=user)
    return get_or_not_found(queryset, "Transaction not found.", id=transaction_id)


def transactions_between(*, user, start, end) -> QuerySet[Transaction]:
    """The user's live spending and income rows (no transfer legs or
    adjustments) dated start..end (inclusive): what budgets and summaries add up."""
    return Transaction.objects.live().standard().for_user(user).between(start, end)


def budgeted_between(*, user, start, end) -> QuerySet[Transaction]:
    """What budgets count: the rows of transactions_between that are in an
    on-budget account (an off-budget account's rows are tracked, never budgeted)."""
    return transactions_between(user=user, start=start, end=end).on_budget()


def category_spent(*, user, category: str, start, end) -> Decimal:
    """Net budgeted spending in one category over start..end (0.00 when none)."""
    totals = category_totals(user=user, since=start, until=end, on_budget=True)  # split lines by their own category
    return (totals.get(category) or Decimal("0.00")).quantize(Decimal("0.01"))


def category_totals(*, user, since, until, on_budget: bool = False) -> dict[str, Decimal]:
    """Net spending per category in the user's base currency over live rows
    (refunds, being negative, lower it); a split transaction counts through
    its lines, by their category. Rows without an amount in the base
    currency (no rate) are left out. on_budget: only on-budget accounts' rows."""
    from ledger.currency.selectors import split_line_base

    window = (budgeted_between if on_budget else transactions_between)(user=user, start=since, end=until)
    rows = (
        window.filter(is_split=False, amount_base__isnull=False, base_currency=F("user__base_currency"))
        .values("category")
        .annotate(total=Sum("amount_base"))
        .order_by()
    )
    totals = {row["category"]: row["total"] for row in rows}
    lines = (
        SplitLine.objects.filter(
            transaction__user=user,
            transaction__is_deleted=False,
            transaction__kind=Transaction.Kind.STANDARD,
            transaction__date__gte=since,
            transaction__date__lte=until,
            transaction__amount_base__isnull=False,
            transaction__base_currency=F("transaction__user__base_currency"),
            **({"transaction__account__on_budget": True} if on_budget else {}),
        )
        .values("category")
        .annotate(total=Sum(split_line_base()))
        .order_by()
    )
    for row in lines:
        totals[row["category"]] = totals.get(row["category"], Decimal("0")) + row["total"]
    return totals


def category_stats(*, user, since, until, on_budget: bool = False) -> dict[str, dict]:
    """Per category over the user's live rows dated since..until, in the base
    currency: {category: {total, count, first_date, largest}}, a split
    transaction counted through its lines, each line by its own category and
    as one entry (as category_totals adds up). Rows without an amount in the
    base currency are left out. on_budget: only on-budget accounts' rows."""
    from ledger.currency.selectors import split_line_base

    window = (budgeted_between if on_budget else transactions_between)(user=user, start=since, end=until)
    plain = (
        window.filter(is_split=False, amount_base__isnull=False, base_currency=F("user__base_currency"))
        .values("category")
        .annotate(total=Sum("amount_base"), count=Count("id"), first_date=Min("date"), largest=Max("amount_base"))
        .order_by()
    )
    lines = (
        SplitLine.objects.filter(
            transaction__in=window.filter(
                is_split=True, amount_base__isnull=False, base_currency=F("user__base_currency")
            ).values("id")  # fmt: skip
        )
        .values("category")
        .annotate(
            total=Sum(split_line_base()),
            count=Count("id"),
            first_date=Min("transaction__date"),
            largest=Max(split_line_base()),
        )
        .order_by()
    )
    stats: dict[str, dict] = {}
    for row in (*plain, *lines):
        category = row.pop("category")
        have = stats.get(category)
        if have is None:
            stats[category] = row
            continue
        have["total"] += row["total"]
        have["count"] += row["count"]
        have["first_date"] = min(have["first_date"], row["first_date"])
        have["largest"] = max(have["largest"], row["largest"])
    return stats


def merchant_stats(*, user, date_from: datetime.date, date_to: datetime.date, limit: int = 10):
    """The user's most used merchants between two dates (inclusive): the
    number of non-deleted transactions and their total (positive = money
    out, so refunds lower it), through the merchant's reverse relation."""
    return (
        Merchant.objects.filter(
            transactions__user=user,
            transactions__is_deleted=False,
            transactions__kind=Transaction.Kind.STANDARD,  # transfer legs and adjustments are not merchant spending
            transactions__date__gte=date_from,
            transactions__date__lte=date_to,
        )
        .annotate(transaction_count=Count("transactions"), total_spent=Sum("transactions__amount"))
        .order_by("-transaction_count", "-total_spent", "canonical_name")[:limit]
    )
