"""Every read of the budgets app. The spending figures come from one SQL
statement for all of a user's budgets: a LEFT JOIN of the user's non-deleted
transactions of the budget's category within its dates, grouped by budget.

Budgets are in the user's base currency and sum each row's amount_base (the
ECB rate of its date; split lines converted the same way). A row without an
amount in the base currency (no rate, or awaiting a recompute) is left out
and every total that left rows out lists them: ``unconverted: [{currency,
count, amount}]``, amount in the row's own currency. A missing rate is never 1."""

import calendar
import datetime
import uuid
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, Round
from django.utils import timezone

from budgets.models import Budget, BudgetPeriod
from budgets.spending import budgets_overview_rows, periods_spending
from config.cache import cache_get, cache_set
from config.errors import NotFound
from config.selectors import get_or_not_found
from ledger.currency.selectors import split_line_base, unconverted
from ledger.models import Account, SplitLine, Transaction
from ledger.transactions.selectors import budgeted_between, category_stats, ledger_version

# Sums: each amount has up to 12 digits, a sum of many has more.
MONEY = DecimalField(max_digits=20, decimal_places=2)
CENT = Decimal("0.01")
# Percentages are clamped to +-PERCENT_MAX: 10 billion of spending against a 0.01 budget is
# "over", and the figure must still fit its field (12 digits, one decimal).
PERCENT_MAX = Decimal("9999999999.9")
PERCENT = DecimalField(max_digits=12, decimal_places=1)
ZERO = Decimal("0.00")

STATUS_HEALTHY = "healthy"
STATUS_AT_RISK = "at_risk"
STATUS_OVER = "over"
STATUSES = (STATUS_HEALTHY, STATUS_AT_RISK, STATUS_OVER)
# at_risk from 80 % of the budget; over from 100 % (spent >= amount).
AT_RISK_PERCENT = 80

SUGGESTION_WINDOW_DAYS = 90
SUGGESTION_MARGIN = Decimal("1.10")
# Below this a budget is not worth tracking: suggest at least this much.
SUGGESTION_FLOOR = Decimal("10.00")
# Above this a monthly figure is more likely a data error (a house bought
# through the card, a mistyped amount) than a habit: suggest, but flag it.
SUGGESTION_PLAUSIBLE_MAX = Decimal("50000.00")
# ... or when one purchase is most of the window: a one-off, not a habit.
SUGGESTION_OUTLIER_SHARE = Decimal("0.8")
SUGGESTION_OUTLIER_MIN_COUNT = 3


def period_status(spent: Decimal, amount: Decimal) -> str:
    """Over from 100 %, at risk from 80 %."""
    if spent >= amount:
        return STATUS_OVER
    if spent >= amount * Decimal(AT_RISK_PERCENT) / 100:
        return STATUS_AT_RISK
    return STATUS_HEALTHY


def money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return max(-PERCENT_MAX, min(PERCENT_MAX, value))


class _SubqueryOr(Coalesce):
    """COALESCE(correlated subquery, default) grouped by the columns the
    subquery reads, not by its value: as a plain Coalesce (no aggregate
    inside) Django put the whole expression in GROUP BY, so PostgreSQL ran
    the split-line subqueries once per joined transaction instead of once
    per budget."""

    def get_group_by_cols(self):
        return [col for source in self.get_source_expressions() for col in source.get_group_by_cols()]


def budget_annotate_spending(
    queryset: QuerySet[Budget], *, splits: bool = True, off_budget: bool = True
) -> QuerySet[Budget]:
    """Adds spent, remaining, percentage and status to every budget in one
    statement. The join condition carries category, dates and is_deleted so
    PostgreSQL reaches the rows through ledger_tx_user_cat_date_idx
    (user, category, date) WHERE NOT is_deleted.

    One user's budgets (``budget_list``) say what the statement can leave
    out: ``splits=False`` when the user has no split transaction (no line
    subqueries to plan: they were most of its planning time), and
    ``off_budget=False`` when the user has no off-budget account (no account
    join, so the rows are an index-only read of ledger_tx_user_cat_date_idx,
    which holds amount_base and base_currency but not the account)."""
    spending = FilteredRelation(
        "user__transactions",
        condition=Q(
            user__transactions__category=F("category"),
            user__transactions__date__gte=F("start_date"),
            user__transactions__date__lte=F("end_date"),
            user__transactions__is_deleted=False,
            # Transfer legs and reconciliation adjustments are never spending.
            user__transactions__kind=Transaction.Kind.STANDARD,
            # A split transaction counts through its lines, by their own category.
            user__transactions__is_split=False,
        ),
    )
    # Reached from the split parents (ledger_tx_user_split_idx: the user's, in the budget's
    # dates), not from every user's lines of the category.
    lines = SplitLine.objects.filter(
        transaction__user_id=OuterRef("user_id"),
        transaction__is_split=True,
        category=OuterRef("category"),
        transaction__date__gte=OuterRef("start_date"),
        transaction__date__lte=OuterRef("end_date"),
        transaction__is_deleted=False,
        transaction__kind=Transaction.Kind.STANDARD,
        transaction__account__on_budget=True,
    )
    converted_lines = lines.filter(
        transaction__amount_base__isnull=False, transaction__base_currency=OuterRef("owner_base_currency")
    )
    split_spent = Subquery(
        converted_lines.order_by().values("category").annotate(total=Sum(split_line_base())).values("total")
    )
    split_left_out = Subquery(
        lines.exclude(
            transaction__amount_base__isnull=False, transaction__base_currency=OuterRef("owner_base_currency")
        )
        .order_by()
        .values("category")
        .annotate(n=Count("pk"))
        .values("n")
    )
    converted = Q(
        period_transactions__amount_base__isnull=False,
        period_transactions__base_currency=F("user__base_currency"),
    )
    # An off-budget account is tracked, never budgeted. (The join condition above cannot
    # reach the account; the aggregates' filters can.)
    budgeted = Q(period_transactions__account__on_budget=True)
    if not off_budget:
        budgeted = Q()
    spent = Coalesce(
        Sum("period_transactions__amount_base", filter=converted & budgeted), Value(ZERO), output_field=MONEY
    )
    # Counted by amount (never null), not by id, which the index does not hold.
    left_out = Count("period_transactions__amount", filter=~converted & budgeted)
    if splits:
        spent = spent + _SubqueryOr(split_spent, Value(ZERO), output_field=MONEY)
        left_out = left_out + _SubqueryOr(split_left_out, Value(0))
    # The subqueries read the base currency through this annotation: an
    # OuterRef across a relation counts as multi-valued, which again puts
    # the subquery itself in GROUP BY.
    return queryset.annotate(owner_base_currency=F("user__base_currency"), period_transactions=spending).annotate(
        spent=spent,
        # Rows the figure had to leave out (no amount in the base currency): budget status lists them.
        unconverted_count=left_out,
        remaining=ExpressionWrapper(F("amount") - spent, output_field=MONEY),
        percentage=Least(
            Greatest(
                Round(spent * Value(Decimal(100)) / F("amount"), 1, output_field=PERCENT),
                Value(-PERCENT_MAX),
                output_field=PERCENT,
            ),
            Value(PERCENT_MAX),
            output_field=PERCENT,
        ),
        status=Case(
            When(Q(spent__gte=F("amount")), then=Value(STATUS_OVER)),
            When(Q(spent__gte=F("amount") * Value(Decimal(AT_RISK_PERCENT) / 100)), then=Value(STATUS_AT_RISK)),
            default=Value(STATUS_HEALTHY),
        ),
    )


def _spending_shape(user) -> dict:
    """One lookup before the spending statement: does the user have split
    transactions, off-budget accounts? (What the statement may leave out.)"""
    flags = (
        type(user)
        .objects.filter(pk=user.pk)
        .values_list(
            Exists(Transaction.objects.filter(user_id=OuterRef("pk"), is_deleted=False, is_split=True)),
            Exists(Account.objects.filter(user_id=OuterRef("pk"), on_budget=False)),
        )
        .first()
    ) or (True, True)
    return {"splits": flags[0], "off_budget": flags[1]}


def budget_list(*, user, filters: dict | None = None) -> QuerySet[Budget]:
    from budgets.filters import BudgetFilterSet

    shape = _spending_shape(user)
    queryset = budget_annotate_spending(Budget.objects.filter(user=user), **shape).order_by("category")
    if filters:
        queryset = BudgetFilterSet(filters, queryset).qs
    return queryset


def budget_get(*, user, budget_id) -> Budget:
    """The user's budget (annotated like the list), or NotFound."""
    return get_or_not_found(budget_list(user=user), "No such budget.", pk=budget_id)


def budget_period_list(*, budget: Budget) -> QuerySet[BudgetPeriod]:
    return BudgetPeriod.objects.filter(budget=budget).order_by("-start_date")


def _row(row: dict) -> dict:
    return {key: row[key] for key in ("category", "budget", "spent", "percentage")}


def budget_status(*, user) -> dict:
    """Totals over the user's budgets (in the base currency) and the
    categories over or near their limit, with the rows left out listed. One
    statement (budgets.spending: the running periods' spending and the
    unconverted rows together); the rest is arithmetic."""
    periods, unconverted = periods_spending(user=user)
    rows = []
    for period in periods:
        spent, amount = period["spent"], period["amount"]
        rows.append(
            {"category": period["category"], "budget": amount, "spent": spent,
             "percentage": percent(spent, amount), "status": period_status(spent, amount)}
        )  # fmt: skip
    total_budgeted = sum((r["budget"] for r in rows), ZERO)
    total_spent = sum((r["spent"] for r in rows), ZERO)
    over = [{**_row(r), "overage": r["spent"] - r["budget"]} for r in rows if r["status"] == STATUS_OVER]
    at_risk = [{**_row(r), "remaining": r["budget"] - r["spent"]} for r in rows if r["status"] == STATUS_AT_RISK]
    over.sort(key=lambda row: row["percentage"], reverse=True)
    at_risk.sort(key=lambda row: row["percentage"], reverse=True)
    return {
        "currency": user.base_currency,
        "unconverted": unconverted,
        "budget_count": len(rows),
        "total_budgeted": total_budgeted,
        "total_spent": total_spent,
        "total_remaining": total_budgeted - total_spent,
        "overall_percentage": percent(total_spent, total_budgeted),
        "over_budget_count": len(over),
        "at_risk_count": len(at_risk),
        "healthy_count": len(rows) - len(over) - len(at_risk),
        "over_budget": over,
        "at_risk": at_risk,
    }


def _month_bounds(year: int, month: int) -> tuple[datetime.date, datetime.date]:
    return datetime.date(year, month, 1), datetime.date(year, month, calendar.monthrange(year, month)[1])


def budget_comparison(*, user, month: datetime.date | None = None) -> dict:
    """Spending per category in ``month`` against the month before, in one
    grouped query (conditional sums)."""
    month = month or timezone.localdate()
    current_start, current_end = _month_bounds(month.year, month.month)
    previous_start, previous_end = _month_bounds(
        *((month.year - 1, 12) if month.month == 1 else (month.year, month.month - 1))
    )
    window = budgeted_between(user=user, start=previous_start, end=current_end)
    # Split lines by their own category (the shared selector), each month on its own.
    current = category_stats(user=user, since=current_start, until=current_end, on_budget=True)
    previous = category_stats(user=user, since=previous_start, until=previous_end, on_budget=True)
    rows = [
        {
            "category": category,
            "current": current[category]["total"] if category in current else ZERO,
            "previous": previous[category]["total"] if category in previous else ZERO,
        }
        for category in sorted(set(current) | set(previous))
    ]
    categories = []
    for row in rows:
        change = row["current"] - row["previous"]
        categories.append(
            {
                "category": row["category"],
                "current": row["current"],
                "previous": row["previous"],
                "change": change,
                # Relative to last month's magnitude; undefined when last month was zero.
                "change_percentage": percent(change, abs(row["previous"])),
            }
        )
    total_current = sum((c["current"] for c in categories), ZERO)
    total_previous = sum((c["previous"] for c in categories), ZERO)
    return {
        "currency": user.base_currency,
        "unconverted": unconverted(window, base_currency=user.base_currency),
        "month": current_start.strftime("%Y-%m"),
        "previous_month": previous_start.strftime("%Y-%m"),
        "categories": categories,
        "total_current": total_current,
        "total_previous": total_previous,
        "total_change": total_current - total_previous,
        "total_change_percentage": percent(total_current - total_previous, abs(total_previous)),
    }


@dataclass(frozen=True)
class Suggestion:
    category: str
    monthly_average: Decimal | None
    suggested_amount: Decimal | None
    months_of_history: int
    transaction_count: int
    is_minimum: bool
    is_implausible: bool
    current_budget: Decimal | None


def round_suggestion(raw: Decimal) -> Decimal:
    """Round up to a figure a person would pick: 5s under 100, 10s under
    1,000, 50s above."""
    step = Decimal(5) if raw < 100 else Decimal(10) if raw < 1000 else Decimal(50)
    return ((raw / step).to_integral_value(rounding=ROUND_CEILING) * step).quantize(CENT)


def budget_suggestions_unconverted(*, user, today: datetime.date | None = None) -> list[dict]:
    """The rows of the suggestions' 90-day window left out (no amount in the base currency)."""
    today = today or timezone.localdate()
    window_start = today - datetime.timedelta(days=SUGGESTION_WINDOW_DAYS - 1)
    window = budgeted_between(user=user, start=window_start, end=today)
    return unconverted(window, base_currency=user.base_currency)


def _suggestion(category: str, row: dict | None, *, today: datetime.date, current_budget) -> Suggestion:
    """One category's suggestion from its window's converted spending
    (row: total, count, first_date, largest; None without any)."""
    total = row["total"] if row else ZERO
    if not row or total <= 0:
        return Suggestion(category, None, None, 0, row["count"] if row else 0, False, False, current_budget)
    covered_days = (today - row["first_date"]).days + 1
    months = min(3, max(1, -(-covered_days // 30)))
    average = money(total / months)
    raw = average * SUGGESTION_MARGIN
    is_minimum = raw < SUGGESTION_FLOOR
    suggested = SUGGESTION_FLOOR if is_minimum else round_suggestion(raw)
    is_implausible = suggested > SUGGESTION_PLAUSIBLE_MAX or (
        row["count"] >= SUGGESTION_OUTLIER_MIN_COUNT and row["largest"] > total * SUGGESTION_OUTLIER_SHARE
    )
    return Suggestion(category, average, suggested, months, row["count"], is_minimum, is_implausible, current_budget)


def budget_suggestions(*, user, today: datetime.date | None = None) -> list[Suggestion]:
    """Per category with a budget or spending in the last 90 days: the
    monthly average in the base currency (over the months the history
    actually covers, at most three) plus 10 %, rounded; None without net
    spending. One grouped query plus one for the user's current budgets."""
    today = today or timezone.localdate()
    window_start = today - datetime.timedelta(days=SUGGESTION_WINDOW_DAYS - 1)
    rows = category_stats(user=user, since=window_start, until=today, on_budget=True)  # split lines by their category
    budgets = dict(Budget.objects.filter(user=user).values_list("category", "amount"))
    return [
        _suggestion(category, rows.get(category), today=today, current_budget=budgets.get(category))
        for category in sorted(set(rows) | set(budgets))
    ]


OVERVIEW_CACHE_SECONDS = 30


def overview_cache_key(user_id) -> str:
    return f"budgets:overview:{user_id}"


def _overview_rows_cached(*, user, since: datetime.date, until: datetime.date) -> list[dict]:
    """The list's rows from Redis while nothing they read has moved: the entry
    names the ledger version (every write to the user's transactions moves
    it, committed or not: a reader's rows are never taken for a later
    version's), the day (the suggestions' window) and the base currency. What
    the version does not see (budget writes, split lines, an account's
    on_budget) drops the entry where it drops the status figures
    (services.budget_figures_invalidate); a reader racing such a write keeps
    the figures from before it for OVERVIEW_CACHE_SECONDS at most, as budget
    status does. Redis away: computed every time."""
    stamp = (ledger_version(user_id=user.pk), until.isoformat(), user.base_currency)
    key = overview_cache_key(user.pk)
    cached = cache_get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    rows = budgets_overview_rows(user=user, since=since, until=until)
    cache_set(key, (stamp, rows), OVERVIEW_CACHE_SECONDS)
    return rows


def budget_overview(*, user, filters: dict | None = None, budget_id=None, today: datetime.date | None = None):
    """The budgets list (or the one ``budget_id``) as dicts, by category:
        the budget's fields, its running period's spent, remaining, percentage,
        status and unconverted_count (as budget_annotate_spending has them), and
        suggested_amount (as budget_suggestions has it). One statement for all
        of them (budgets.spending.budgets_overview_rows; the list's from Redis while
    the ledger has not moved, _overview_rows_cached); ``filters`` are
        BudgetFilterSet's cleaned data, applied here: a user has at most one
        budget per category, so at most a few dozen rows."""
    today = today or timezone.localdate()
    window_start = today - datetime.timedelta(days=SUGGESTION_WINDOW_DAYS - 1)
    if budget_id is None:
        rows = _overview_rows_cached(user=user, since=window_start, until=today)
    else:
        rows = budgets_overview_rows(user=user, since=window_start, until=today, budget_id=budget_id)
    filters = {name: value for name, value in (filters or {}).items() if value not in (None, "")}
    budgets = []
    for row in rows:
        amount, spent = row["amount"], money(row["spent"])
        recent = None
        if row["recent_count"]:
            recent = {
                "total": row["recent_total"],
                "count": int(row["recent_count"]),
                "first_date": row["recent_first_date"],
                "largest": row["recent_largest"],
            }
        suggestion = _suggestion(row["category"], recent, today=today, current_budget=amount)
        budget = {
            "id": row["budget_id"],
            "category": row["category"],
            "amount": amount,
            "start_date": row["start_date"],
            "end_date": row["end_date"],
            "auto_renew": row["auto_renew"],
            "spent": spent,
            "remaining": amount - spent,
            "percentage": percent(spent, amount),
            "status": period_status(spent, amount),
            "suggested_amount": suggestion.suggested_amount,
            "unconverted_count": int(row["left_out"]),
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        }
        if all(budget[name] == value for name, value in filters.items()):
            budgets.append(budget)
    return budgets


def budget_overview_get(*, user, budget_id) -> dict:
    """One budget as budget_overview has it, or NotFound (a malformed id too)."""
    try:
        budget_id = uuid.UUID(str(budget_id))
    except ValueError:
        raise NotFound("No such budget.") from None
    found = budget_overview(user=user, budget_id=budget_id)
    if not found:
        raise NotFound("No such budget.")
    return found[0]
