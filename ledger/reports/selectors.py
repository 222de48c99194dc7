"""Report reads: each report is one SQL statement over `report_rows`, the
user's live standard rows in the period (transfer legs and reconciliation
adjustments never count as spending or income; a split transaction counts
as its lines, each by its own category).

Amounts are summed in the user's base currency: each row's stored
amount_base (ECB rate of its date, ledger.currency). A row without one (no
rate within 7 days, or awaiting the recompute after a base-currency change)
is left out of the totals and listed in `unconverted` (a missing rate is
never 1)."""

import datetime
from decimal import Decimal

from django.db import connection

from merchants.categories import Category

INTERVALS = ("month", "week", "day")
SPENDING_GROUPS = {
    "category": "r.category",
    "merchant": "coalesce(r.merchant_name, r.merchant_raw)",
    "account": "r.account_name",
    # A row with several tags counts under each; an untagged row under null.
    "tag": "tg.name",
}
# What group_by=tag joins: the parent's tags (a split line carries its parent's).
_TAG_JOIN = """LEFT JOIN ledger_transaction_tags tt ON tt.transaction_id = r.id
              LEFT JOIN ledger_tag tg ON tg.id = tt.tag_id"""

_LIVE_ROWS = """t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard'
          AND t.date BETWEEN %(since)s AND %(until)s
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))"""

# The rows every report reads. %(accounts)s is an array of account ids or NULL
# (all accounts). A split transaction is replaced by its lines, each under its
# own category and converted at its parent's rate (as the parent's amount_base
# is); split parents are found through ledger_tx_user_split_idx. Each CTE is
# read once, so PostgreSQL inlines them into the report's statement, and the
# LEFT JOINs a report does not use (account, merchant names) are removed.
_ROWS = f"""
    WITH report_lines AS (
        SELECT t.id, t.date, t.amount, t.currency, t.category, t.merchant_raw, t.merchant_id, t.account_id,
               CASE WHEN t.base_currency = %(base)s THEN t.amount_base END AS amount_base
        FROM ledger_transaction t
        WHERE {_LIVE_ROWS} AND NOT t.is_split
        UNION ALL
        SELECT t.id, t.date, s.amount, t.currency, s.category, t.merchant_raw, t.merchant_id, t.account_id,
               CASE WHEN t.base_currency = %(base)s AND t.amount_base IS NOT NULL
                    THEN ledger_convert_amount(s.amount, t.currency, t.base_currency, t.date) END
        FROM ledger_transaction t JOIN ledger_splitline s ON s.transaction_id = t.id
        WHERE {_LIVE_ROWS} AND t.is_split
    ),
    report_rows AS (
        SELECT r.id, r.date, r.amount, r.currency, r.category, r.merchant_raw, r.amount_base,
               m.canonical_name AS merchant_name, a.name AS account_name
        FROM report_lines r
        LEFT JOIN ledger_account a ON a.id = r.account_id
        LEFT JOIN merchants_merchant m ON m.id = r.merchant_id
    )
"""

SAVINGS_RATE_MAX = Decimal("9999999.9")


def base_currency(user) -> str:
    return user.base_currency


def _params(*, user, since, until, accounts) -> dict:
    return {
        "user": user.pk,
        "base": base_currency(user),
        "since": since,
        "until": until,
        "accounts": [str(a) for a in accounts] if accounts else None,
        "income": Category.INCOME.value,
    }


def _fetch(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _unconverted(params: dict, where: str = "TRUE") -> list[dict]:
    rows = _fetch(
        _ROWS
        + f"""SELECT currency, count(*) AS count, sum(amount) AS amount FROM report_rows
        WHERE amount_base IS NULL AND {where} GROUP BY currency ORDER BY currency""",
        params,
    )
    return [{"currency": r["currency"], "count": r["count"], "amount": r["amount"]} for r in rows]


def spending_report(*, user, since, until, interval="month", group_by="category", accounts=None) -> dict:
    """Spending (rows outside Income; refunds lower their group) per period and group."""
    params = _params(user=user, since=since, until=until, accounts=accounts)
    params["interval"] = interval
    key = SPENDING_GROUPS[group_by]
    # Rows without an amount in base count in left_out, not in the group: the
    # unconverted list is only read when some were left out (rarely).
    rows = _fetch(
        _ROWS
        + f"""SELECT date_trunc(%(interval)s, r.date)::date AS period, {key} AS grp,
                     sum(r.amount_base) AS amount, count(r.amount_base) AS count,
                     count(*) - count(r.amount_base) AS left_out
              FROM report_rows r {_TAG_JOIN if group_by == "tag" else ""}
              WHERE r.category <> %(income)s
              GROUP BY 1, 2 ORDER BY 1, 3 DESC NULLS LAST, 2""",
        params,
    )
    periods: dict[datetime.date, dict] = {}
    left_out = 0
    for row in rows:
        left_out += row["left_out"]
        if not row["count"]:
            continue
        period = periods.setdefault(row["period"], {"period": row["period"], "total": Decimal("0"), "groups": []})
        period["groups"].append({"key": row["grp"], "amount": row["amount"], "count": row["count"]})
        period["total"] += row["amount"]
    if group_by == "tag":
        # A row under two tags is in two groups but in its period's total once.
        for row in _fetch(
            _ROWS
            + """SELECT date_trunc(%(interval)s, r.date)::date AS period, sum(r.amount_base) AS total
                 FROM report_rows r WHERE r.category <> %(income)s AND r.amount_base IS NOT NULL GROUP BY 1""",
            params,
        ):
            periods[row["period"]]["total"] = row["total"]
    return {
        "currency": params["base"],
        "interval": interval,
        "group_by": group_by,
        "since": since,
        "until": until,
        "periods": list(periods.values()),
        "unconverted": _unconverted(params, "category <> %(income)s") if left_out else [],
    }


def cashflow_report(*, user, since, until, interval="month", accounts=None) -> dict:
    """Income (money in under Income), spending (everything else, net of refunds), net and savings rate."""
    params = _params(user=user, since=since, until=until, accounts=accounts)
    params["interval"] = interval
    rows = _fetch(
        _ROWS
        + """SELECT date_trunc(%(interval)s, r.date)::date AS period,
                    coalesce(-sum(r.amount_base) FILTER (WHERE r.category = %(income)s), 0) AS income,
                    coalesce(sum(r.amount_base) FILTER (WHERE r.category <> %(income)s), 0) AS spending,
                    count(r.amount_base) AS converted, count(*) - count(r.amount_base) AS left_out
             FROM report_rows r
             GROUP BY 1 ORDER BY 1""",
        params,
    )
    periods = []
    left_out = sum(row.pop("left_out") for row in rows)
    for row in rows:
        if not row.pop("converted"):
            continue
        net = row["income"] - row["spending"]
        rate = (net * 100 / row["income"]).quantize(Decimal("0.1")) if row["income"] > 0 else None
        if rate is not None:  # a cent of income against billions spent: clamped to fit the field
            rate = max(-SAVINGS_RATE_MAX, min(SAVINGS_RATE_MAX, rate))
        periods.append({**row, "net": net, "savings_rate": rate})
    return {
        "currency": params["base"],
        "interval": interval,
        "since": since,
        "until": until,
        "periods": periods,
        "unconverted": _unconverted(params) if left_out else [],
    }


def trends_report(*, user, until, interval="month", accounts=None, limit=10) -> dict:
    """Categories and merchants whose spending moved most in the period ending
    at `until` against the period before and the average of the 3 before."""
    current = _period_start(until, interval)
    starts = [current]
    for _ in range(3):
        starts.append(_period_start(starts[-1] - datetime.timedelta(days=1), interval))
    params = _params(user=user, since=starts[-1], until=until, accounts=accounts)
    params.update({"interval": interval, "current": current, "previous": starts[1]})
    out = {"currency": params["base"], "interval": interval, "period": current, "previous_period": starts[1]}
    for dimension, key in (("categories", "r.category"), ("merchants", "coalesce(r.merchant_name, r.merchant_raw)")):
        rows = _fetch(
            _ROWS
            + f"""SELECT {key} AS key,
                     coalesce(sum(r.amount_base) FILTER (WHERE r.date >= %(current)s), 0) AS amount,
                     coalesce(sum(r.amount_base) FILTER (WHERE r.date >= %(previous)s AND r.date < %(current)s), 0)
                         AS previous,
                     round(coalesce(sum(r.amount_base) FILTER (WHERE r.date < %(current)s), 0) / 3, 2)
                         AS average_3,
                     count(r.amount_base) AS converted, count(*) - count(r.amount_base) AS left_out
                  FROM report_rows r WHERE r.category <> %(income)s
                  GROUP BY 1""",
            params,
        )
        # Both dimensions see the same rows: either one says whether any were left out.
        left_out = sum(row.pop("left_out") for row in rows)
        rows = [row for row in rows if row.pop("converted")]
        for row in rows:
            row["change"] = row["amount"] - row["previous"]
            row["change_vs_average"] = row["amount"] - row["average_3"]
        rows.sort(key=lambda r: (-abs(r["change"]), str(r["key"])))
        out[dimension] = rows[:limit]
    out["unconverted"] = _unconverted(params, "category <> %(income)s") if left_out else []
    return out


def _period_start(day: datetime.date, interval: str) -> datetime.date:
    if interval == "month":
        return day.replace(day=1)
    if interval == "week":
        return day - datetime.timedelta(days=day.weekday())
    return day
