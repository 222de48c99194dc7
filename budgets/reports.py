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
are one statement (budgets.spending: one join of periods to daily sums,
grouped)."""

import datetime

from django.utils import timezone

from budgets.selectors import STATUS_OVER, ZERO, percent, period_status
from budgets.spending import periods_spending


def months_back(day: datetime.date, months: int) -> datetime.date:
    """The 1st of the month ``months`` months before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def budget_performance_report(*, user, months: int = 12, accounts=None, today: datetime.date | None = None) -> dict:
    """Per budget, its periods overlapping the last ``months`` calendar months
    (this one included), oldest first: budget, spent, remaining, percentage, status."""
    today = today or timezone.localdate()
    since = months_back(today, months - 1)
    rows, unconverted = periods_spending(user=user, accounts=accounts, since=since, until=today)
    budgets: dict = {}
    for row in rows:
        entry = budgets.setdefault(
            row["budget_id"], {"id": row["budget_id"], "category": row["category"], "periods": []}
        )
        spent = row["spent"]
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
        "unconverted": unconverted,
    }


def _totals(budgets) -> dict:
    budgeted = sum((p["budget"] for b in budgets for p in b["periods"]), ZERO)
    spent = sum((p["spent"] for b in budgets for p in b["periods"]), ZERO)
    over = sum(1 for b in budgets for p in b["periods"] if p["status"] == STATUS_OVER)
    return {"budgeted": budgeted, "spent": spent, "percentage": percent(spent, budgeted), "periods_over": over}
