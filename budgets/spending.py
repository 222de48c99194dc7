"""The spending of budget periods, recomputed from the ledger in one
statement: for the budgets' running periods (budget status) or for every
period overlapping a window (the budget performance report). The same rules
as every budget figure: live standard rows only (transfer legs and
adjustments never count), off-budget accounts never count, a split
transaction counts through its lines by their own category, amounts in the
user's base currency; the rows without an amount in it are left out and
listed per currency by the same statement, sent in one round trip with its
settings (config.sql)."""

import datetime
from decimal import Decimal

from config.sql import report_rows

# Every period overlapping [since, until]: the running one (the budget's own dates) and the closed ones.
_WINDOW_PERIODS = """
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
# An off-budget account (a loan, an investment) never counts toward a budget:
# when the user has one (checked once per statement), the rows must be in an
# on-budget account.
_LIVE = """t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard'
          AND t.date BETWEEN {low} AND {high}
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))
          AND (NOT EXISTS (SELECT 1 FROM ledger_account oa WHERE oa.user_id = %(user)s AND NOT oa.on_budget)
               OR t.account_id IN (SELECT oa.id FROM ledger_account oa WHERE oa.user_id = %(user)s AND oa.on_budget))"""
_SPLIT_BASE = """CASE WHEN t.base_currency = %(base)s AND t.amount_base IS NOT NULL THEN
                CASE WHEN t.currency = t.base_currency THEN s.amount
                     ELSE ledger_convert_amount(s.amount, t.currency, t.base_currency, t.date) END
            END"""
_DAILY = """
    daily AS (
        SELECT t.category, t.date,
               CASE WHEN t.base_currency = %(base)s AND t.amount_base IS NOT NULL THEN NULL ELSE t.currency END
                   AS left_currency,
               sum(CASE WHEN t.base_currency = %(base)s THEN coalesce(t.amount_base, t.amount) ELSE t.amount END)
                   AS amount,
               count(*) AS count,
               max(t.amount_base) AS largest
        FROM ledger_transaction t
        WHERE {live} AND NOT t.is_split AND t.category IN (SELECT category FROM periods)
        GROUP BY 1, 2, 3
        UNION ALL
        SELECT s.category, t.date, CASE WHEN {split_base} IS NULL THEN t.currency END,
               sum(coalesce({split_base}, s.amount)), count(*), max({split_base})
        FROM ledger_transaction t JOIN ledger_splitline s ON s.transaction_id = t.id
        WHERE {live} AND t.is_split AND s.category IN (SELECT category FROM periods)
        GROUP BY 1, 2, 3
    )
"""


def _daily(*, low: str, high: str) -> str:
    """The daily sums over the user's rows dated low..high (SQL expressions)."""
    return _DAILY.format(live=_LIVE.format(low=low, high=high), split_base=_SPLIT_BASE)


_PERIODS_SPAN = {"low": "(SELECT min(start_date) FROM periods)", "high": "(SELECT max(end_date) FROM periods)"}

# One statement: each period's spending, and (grouping set per currency) the
# rows left out. A row belongs to at most one period of its category (one
# budget per category, whose periods never overlap).
_CURRENT_PERIODS = """
    periods AS (
        SELECT b.id AS budget_id, b.category, b.start_date, b.end_date, b.amount, TRUE AS is_current
        FROM budgets_budget b WHERE b.user_id = %(user)s
    )
"""

_SPENT_SQL = """
    WITH {periods}, {daily}
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


def periods_spending(
    *, user, accounts=None, since: datetime.date | None = None, until: datetime.date | None = None
) -> tuple[list[dict], list[dict]]:
    """(periods, unconverted): each period (budget_id, category, start_date,
    end_date, amount, is_current, spent) of the user's budgets, by category
    and date, and the rows left out per currency [{currency, count, amount}].
    With since/until, every period overlapping them; without, the running
    periods only. One statement, one round trip."""
    params = {
        "user": user.pk,
        "base": user.base_currency,
        "since": since,
        "until": until,
        "accounts": [str(a) for a in accounts] if accounts else None,
    }
    periods_sql = _CURRENT_PERIODS if since is None else _WINDOW_PERIODS
    periods, unconverted = [], []
    names, rows = report_rows(_SPENT_SQL.format(periods=periods_sql, daily=_daily(**_PERIODS_SPAN)), params)
    for row in (dict(zip(names, values, strict=True)) for values in rows):
        if row.pop("is_period"):
            row["spent"] = Decimal(row["spent"]).quantize(Decimal("0.01"))
            periods.append(row)
        elif row["left_currency"] is not None and row["left_out"]:
            unconverted.append(
                {"currency": row["left_currency"], "count": int(row["left_out"]), "amount": row["left_amount"]}
            )
    return periods, sorted(unconverted, key=lambda u: u["currency"])


# The budgets list: every budget with its running period's figures and, from
# the same daily sums, its category's last SUGGESTION days (converted rows
# only: total, count, first date, largest) for the suggested amount. The
# daily sums cover both the periods and that window; a daily sum's `largest`
# is its largest converted row (a split line counted as one row).
_OVERVIEW_SQL = """
    WITH periods AS (
        SELECT b.id AS budget_id, b.category, b.amount, b.start_date, b.end_date, b.auto_renew,
               b.created_at, b.updated_at
        FROM budgets_budget b
        WHERE b.user_id = %(user)s AND (%(budget)s::uuid IS NULL OR b.id = %(budget)s::uuid)
    ), {daily}
    SELECT p.budget_id, p.category, p.amount, p.start_date, p.end_date, p.auto_renew, p.created_at, p.updated_at,
           coalesce(sum(d.amount) FILTER (WHERE d.left_currency IS NULL AND d.date BETWEEN p.start_date AND p.end_date),
                    0) AS spent,
           coalesce(sum(d.count) FILTER (WHERE d.left_currency IS NOT NULL
                                          AND d.date BETWEEN p.start_date AND p.end_date), 0) AS left_out,
           sum(d.amount) FILTER (WHERE {recent}) AS recent_total,
           coalesce(sum(d.count) FILTER (WHERE {recent}), 0) AS recent_count,
           min(d.date) FILTER (WHERE {recent}) AS recent_first_date,
           max(d.largest) FILTER (WHERE {recent}) AS recent_largest
    FROM periods p
    LEFT JOIN daily d ON d.category = p.category
        AND (d.date BETWEEN p.start_date AND p.end_date OR d.date BETWEEN %(since)s AND %(until)s)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ORDER BY p.category
"""
_RECENT = "d.left_currency IS NULL AND d.date BETWEEN %(since)s AND %(until)s"
_OVERVIEW_SPAN = {
    "low": "LEAST((SELECT min(start_date) FROM periods), %(since)s)",
    "high": "GREATEST((SELECT max(end_date) FROM periods), %(until)s)",
}


def budgets_overview_rows(*, user, since: datetime.date, until: datetime.date, budget_id=None) -> list[dict]:
    """Each of the user's budgets (or the one ``budget_id``), by category:
    its columns, its running period's spent and left_out, and its category's
    converted spending dated since..until as recent_total, recent_count,
    recent_first_date and recent_largest (None, 0, None, None without any).
    One statement, one round trip."""
    params = {
        "user": user.pk,
        "base": user.base_currency,
        "since": since,
        "until": until,
        "budget": str(budget_id) if budget_id is not None else None,
        "accounts": None,
    }
    sql = _OVERVIEW_SQL.format(daily=_daily(**_OVERVIEW_SPAN), recent=_RECENT)
    names, rows = report_rows(sql, params)
    return [dict(zip(names, values, strict=True)) for values in rows]
