"""Budget performance over the last N months (`reports/budgets`): every
period of every budget that overlaps the window (its closed BudgetPeriod rows
and its current period), with what was budgeted, what was spent, the
percentage and the status, all in the user's base currency.

Spent is recomputed from the ledger, not read from BudgetPeriod.spent (a
snapshot taken when the period closed): a later edit, split, refund or
deletion shows. The same rules as the live budget figures apply: transfer legs
and adjustments never count, deleted rows and off-budget accounts never
count, a split transaction counts through its lines by their own category.
The periods with their spending, and the rows that could not be converted,
are one statement (one join of periods to daily sums, grouped); a lookup of
off-budget accounts comes before it."""

import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from budgets.selectors import AT_RISK_PERCENT, STATUS_AT_RISK, STATUS_HEALTHY, STATUS_OVER, ZERO, percent

_PERIODS = """
    periods AS (
        SELECT b.id AS budget_id, b.category, b.start_date, b.end_date, b.amount, TRUE AS is_current
        FROM budgets_budget b
        WHERE b.user_id = %(user)s AND b.end_date >= %(since)s AND b.start_date <= %(until)s
        UNION ALL
        SELECT p.budget_id, p.category, p.start_date, p.end_date, p.amount, FALSE
        FROM budgets_budgetperiod p JOIN budgets_budget b ON b.id = p.budget_id
        WHERE b.user_id = %(user)s AND p.end_date >= %(since)s AND p.start_date <= %(until)s
    )
"""

# Spending per category and day, then per period: the periods join a few
# thousand daily sums instead of every row. Each daily sum is either the
# converted rows in the base currency (left_currency NULL) or one currency's
# rows without an amount in the base currency, in that currency. Plain rows
# are an index-only read of ledger_tx_user_report_idx (the user's live
# standard rows by date, category and currency included); split parents come
# through ledger_tx_user_split_idx, each line converted at its parent's rate.
_LIVE = """t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard'
          AND t.date BETWEEN (SELECT min(start_date) FROM periods) AND (SELECT max(end_date) FROM periods)
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))"""
_SPLIT_BASE = """CASE WHEN t.base_currency = %(base)s AND t.amount_base IS NOT NULL THEN
                CASE WHEN t.currency = t.base_currency THEN s.amount
                     ELSE ledger_convert_amount(s.amount, t.currency, t.base_currency, t.date) END
            END"""
_DAILY = f"""
    daily AS (
        SELECT t.category, t.date,
               CASE WHEN t.base_currency = %(base)s AND t.amount_base IS NOT NULL THEN NULL ELSE t.currency END
                   AS left_currency,
               sum(CASE WHEN t.base_currency = %(base)s THEN coalesce(t.amount_base, t.amount) ELSE t.amount END)
                   AS amount,
               count(*) AS count
        FROM ledger_transaction t
        WHERE {_LIVE} AND NOT t.is_split AND t.category IN (SELECT category FROM periods)
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT s.category, t.date, CASE WHEN {_SPLIT_BASE} IS NULL THEN t.currency END,
               sum(coalesce({_SPLIT_BASE}, s.amount)), count(*)
        FROM ledger_transaction t JOIN ledger_splitline s ON s.transaction_id = t.id
        WHERE {_LIVE} AND t.is_split AND s.category IN (SELECT category FROM periods)
        GROUP BY 1, 2, 3
    )
"""

# One statement: each period's spending, and (grouping set per currency) the
# rows left out. A row belongs to at most one period of its category (one
# budget per category, whose periods never overlap).
_SPENT_SQL = f"""
    WITH {_PERIODS}, {_DAILY}
    SELECT GROUPING(d.left_currency) = 1 AS is_period,
           p.budget_id, p.category, p.start_date, p.end_date, p.amount, p.is_current, d.left_currency,
           coalesce(sum(d.amount) FILTER (WHERE d.left_currency IS NULL), 0) AS spent,
           coalesce(sum(d.count) FILTER (WHERE d.left_currency IS NOT NULL), 0) AS left_out,
           sum(d.amount) FILTER (WHERE d.left_currency IS NOT NULL) AS left_amount
    FROM periods p
    LEFT JOIN daily d ON d.category = p.category AND d.date BETWEEN p.start_date AND p.end_date
    GROUP BY GROUPING SETS ((2, 3, 4, 5, 6, 7), (8))
    ORDER BY 1, p.category, p.start_date
"""


def months_back(day: datetime.date, months: int) -> datetime.date:
    """The 1st of the month ``months`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_status(spent: Decimal, amount: Decimal) -> str:
    """The live budgets' rule: over from 100 %, at risk from 80 %."""
    if spent >= amount:
        return STATUS_OVER
    if spent >= amount * Decimal(AT_RISK_PERCENT) / 100:
        return STATUS_AT_RISK
    return STATUS_HEALTHY


def _fetch(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _budgeted_accounts(*, user, accounts) -> list[str] | None:
    """The account ids the report may count, or None for all of them. An
    off-budget account (a loan, an investment) never counts toward a budget;
    when the user has none, no list is passed, so the plain rows stay an
    index-only read (the budget index does not hold the account)."""
    from ledger.models import Account

    off_budget = Account.objects.filter(user=user, on_budget=False)
    if not off_budget.exists():
        return [str(a) for a in accounts] if accounts else None
    allowed = Account.objects.filter(user=user, on_budget=True)
    if accounts:
        allowed = allowed.filter(pk__in=accounts)
    return [str(pk) for pk in allowed.values_list("pk", flat=True)]  # [] counts nothing


def budget_performance_report(*, user, months: int = 12, accounts=None, today: datetime.date | None = None) -> dict:
    """Per budget, its periods overlapping the last ``months`` calendar months
    (this one included), oldest first: budget, spent, remaining, percentage, status."""
    today = today or timezone.localdate()
    since = months_back(today, months - 1)
    params = {
        "user": user.pk,
        "base": user.base_currency,
        "since": since,
        "until": today,
        "accounts": _budgeted_accounts(user=user, accounts=accounts),
    }
    budgets: dict = {}
    unconverted = []
    for row in _fetch(_SPENT_SQL, params):
        if not row["is_period"]:
            if row["left_currency"] is not None and row["left_out"]:
                unconverted.append(
                    {"currency": row["left_currency"], "count": int(row["left_out"]), "amount": row["left_amount"]}
                )
            continue
        entry = budgets.setdefault(
            row["budget_id"], {"id": row["budget_id"], "category": row["category"], "periods": []}
        )
        spent = Decimal(row["spent"]).quantize(Decimal("0.01"))
        entry["periods"].append(
            {
                "start_date": row["start_date"],
                "end_date": row["end_date"],
                "is_current": row["is_current"],
                "budget": row["amount"],
                "spent": spent,
                "remaining": row["amount"] - spent,
                "percentage": percent(spent, row["amount"]),
                "status": period_status(spent, row["amount"]),
            }
        )
    return {
        "currency": user.base_currency,
        "months": months,
        "since": since,
        "until": today,
        "budgets": sorted(budgets.values(), key=lambda b: b["category"]),
        "totals": _totals(budgets.values()),
        "unconverted": sorted(unconverted, key=lambda u: u["currency"]),
    }


def _totals(budgets) -> dict:
    budgeted = sum((p["budget"] for b in budgets for p in b["periods"]), ZERO)
    spent = sum((p["spent"] for b in budgets for p in b["periods"]), ZERO)
    over = sum(1 for b in budgets for p in b["periods"] if p["status"] == STATUS_OVER)
    return {"budgeted": budgeted, "spent": spent, "percentage": percent(spent, budgeted), "periods_over": over}
