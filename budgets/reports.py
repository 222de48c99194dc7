"""Budget performance over the last N months (`reports/budgets`): every
period of every budget that overlaps the window (its closed BudgetPeriod rows
and its current period), with what was budgeted, what was spent, the
percentage and the status, all in the user's base currency.

Spent is recomputed from the ledger, not read from BudgetPeriod.spent (a
snapshot taken when the period closed): a later edit, split, refund or
deletion shows. The same rules as the live budget figures apply: transfer legs
and adjustments never count, deleted rows and off-budget accounts never
count, a split transaction counts through its lines by their own category. The periods with their
spending are one statement (one join of periods to daily sums, grouped); a
lookup of off-budget accounts comes before it, and the rows that could not be
converted are listed with a third only when there were any."""

import datetime
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from budgets.selectors import AT_RISK_PERCENT, STATUS_AT_RISK, STATUS_HEALTHY, STATUS_OVER, ZERO, percent

# For the unconverted list: the live rows of the periods' span (a current
# period may run past today), a split transaction replaced by its lines (each
# converted at its parent's rate, as the parent's amount_base is). amount_base
# is NULL where the row has no amount in the user's base currency.
_ROWS = """
    rows AS (
        SELECT t.date, t.category, t.currency, t.amount,
               CASE WHEN t.base_currency = %(base)s THEN t.amount_base END AS amount_base
        FROM ledger_transaction t
        WHERE t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard' AND NOT t.is_split
          AND t.date BETWEEN (SELECT min(start_date) FROM periods) AND (SELECT max(end_date) FROM periods)
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))
        UNION ALL
        SELECT t.date, s.category, t.currency, s.amount,
               CASE WHEN t.base_currency = %(base)s AND t.amount_base IS NOT NULL
                    THEN ledger_convert_amount(s.amount, t.currency, t.base_currency, t.date) END
        FROM ledger_splitline s JOIN ledger_transaction t ON t.id = s.transaction_id
        WHERE t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard' AND t.is_split
          AND t.date BETWEEN (SELECT min(start_date) FROM periods) AND (SELECT max(end_date) FROM periods)
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))
    )
"""

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
# thousand daily sums instead of every row. Plain rows are read through
# ledger_tx_user_cat_date_idx (the budget categories only, index-only: what
# is summed is included); split parents through ledger_tx_user_split_idx.
_DAILY = """
    daily AS (
        SELECT t.category, t.date,
               sum(t.amount_base) FILTER (WHERE t.base_currency = %(base)s) AS spent,
               count(*) FILTER (WHERE t.amount_base IS NULL OR t.base_currency <> %(base)s) AS unconverted
        FROM (SELECT DISTINCT category FROM periods) c
        JOIN ledger_transaction t ON t.category = c.category
        WHERE t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard' AND NOT t.is_split
          AND t.date BETWEEN (SELECT min(start_date) FROM periods) AND (SELECT max(end_date) FROM periods)
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))
        GROUP BY 1, 2
        UNION ALL
        SELECT s.category, t.date,
               sum(ledger_convert_amount(s.amount, t.currency, t.base_currency, t.date))
                   FILTER (WHERE t.base_currency = %(base)s AND t.amount_base IS NOT NULL),
               count(*) FILTER (WHERE t.amount_base IS NULL OR t.base_currency <> %(base)s)
        FROM ledger_transaction t JOIN ledger_splitline s ON s.transaction_id = t.id
        WHERE t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard' AND t.is_split
          AND t.date BETWEEN (SELECT min(start_date) FROM periods) AND (SELECT max(end_date) FROM periods)
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))
        GROUP BY 1, 2
    )
"""

_SPENT_SQL = f"""
    WITH {_PERIODS}, {_DAILY}
    SELECT p.budget_id, p.category, p.start_date, p.end_date, p.amount, p.is_current,
           coalesce(sum(d.spent), 0) AS spent, coalesce(sum(d.unconverted), 0) AS unconverted_count
    FROM periods p
    LEFT JOIN daily d ON d.category = p.category AND d.date BETWEEN p.start_date AND p.end_date
    GROUP BY 1, 2, 3, 4, 5, 6
    ORDER BY p.category, p.start_date
"""

# A row belongs to at most one period of its category (a budget's periods never overlap).
_UNCONVERTED_SQL = f"""
    WITH {_PERIODS}, {_ROWS}
    SELECT r.currency, count(*) AS count, sum(r.amount) AS amount
    FROM rows r
    WHERE r.amount_base IS NULL
      AND EXISTS (SELECT 1 FROM periods p
                  WHERE p.category = r.category AND r.date BETWEEN p.start_date AND p.end_date)
    GROUP BY 1 ORDER BY 1
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
    left_out = 0
    for row in _fetch(_SPENT_SQL, params):
        left_out += row["unconverted_count"]
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
        "unconverted": _fetch(_UNCONVERTED_SQL, params) if left_out else [],
    }


def _totals(budgets) -> dict:
    budgeted = sum((p["budget"] for b in budgets for p in b["periods"]), ZERO)
    spent = sum((p["spent"] for b in budgets for p in b["periods"]), ZERO)
    over = sum(1 for b in budgets for p in b["periods"] if p["status"] == STATUS_OVER)
    return {"budgeted": budgeted, "spent": spent, "percentage": percent(spent, budgeted), "periods_over": over}
