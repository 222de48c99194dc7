"""Report reads: each report is one SQL statement over the user's live
standard rows in the period (transfer legs and reconciliation adjustments
never count as spending or income; a split transaction counts as its lines,
each by its own category).

Amounts are summed in the user's base currency: each row's stored
amount_base (ECB rate of its date, ledger.currency). A row without one (no
rate within 7 days, or awaiting the recompute after a base-currency change)
is left out of the totals and listed in `unconverted` (a missing rate is
never 1). The same statement finds those rows: its groups are keyed by
`left_currency` too (NULL for converted rows, the row's currency for the
others), so each group is either converted rows summed in the base currency
or one currency's unconverted rows summed in their own, and a report is one
pass over its rows whatever was left out.

The plain rows are an index-only read of ledger_tx_user_report_idx (user,
date; live standard rows only; the columns reports group and sum are
included), aggregated as they are read. Names (merchants, accounts) are
looked up for the groups afterwards, never joined to every row. Settings
and statement go in one round trip (config.sql)."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

import orjson

from config.renderers import RawJSON
from config.sql import report_rows
from ledger.models import Account
from merchants.categories import Category
from merchants.models import Merchant

INTERVALS = ("month", "week", "day")
SPENDING_GROUPS = ("category", "merchant", "tag", "account")

_LIVE_ROWS = """t.user_id = %(user)s AND NOT t.is_deleted AND t.kind = 'standard'
          AND t.date BETWEEN %(since)s AND %(until)s
          AND (%(accounts)s::uuid[] IS NULL OR t.account_id = ANY(%(accounts)s::uuid[]))"""

# The two kinds of line: a plain row, and a line of a split transaction
# (its parent found through ledger_tx_user_split_idx). amount_base is NULL
# when the line has no amount in the base currency: a plain row's stored
# amount_base; a split line converted at its parent's rate (as the parent's
# amount_base is), a line in the base currency being its own amount.
_LINE = {
    "plain": {
        "from": "ledger_transaction t",
        "where": f"{_LIVE_ROWS} AND NOT t.is_split",
        "category": "t.category",
        "amount": "t.amount",
        "amount_base": "CASE WHEN t.base_currency = %(base)s THEN t.amount_base END",
    },
    "split": {
        "from": "ledger_transaction t JOIN ledger_splitline s ON s.transaction_id = t.id",
        "where": f"{_LIVE_ROWS} AND t.is_split",
        "category": "s.category",
        "amount": "s.amount",
        "amount_base": """CASE WHEN t.base_currency = %(base)s AND t.amount_base IS NOT NULL THEN
                CASE WHEN t.currency = t.base_currency THEN s.amount
                     ELSE ledger_convert_amount(s.amount, t.currency, t.base_currency, t.date) END
            END""",
    },
}

# The group key every report adds, and what its groups sum: in the base
# currency when converted, in the rows' own currency when not.
_LEFT_CURRENCY = "CASE WHEN {amount_base} IS NULL THEN t.currency END"
_SUM = "coalesce({amount_base}, {amount})"

# The period of a row: date_trunc on a timestamp without time zone (on a
# timestamptz it converts through the session's time zone, row by row).
_PERIOD = "date_trunc(%(interval)s, t.date::timestamp)::date"

# group_by (but tag): the key columns. A merchant's rows group by merchant id
# (by their raw text only without one), an account's by id; names come after.
_GROUP_KEYS = {
    "category": ("{category}", "NULL::uuid"),
    "merchant": ("CASE WHEN t.merchant_id IS NULL THEN t.merchant_raw END", "t.merchant_id"),
    "account": ("NULL::text", "t.account_id"),
}
# group_by=tag: a row with several tags counts under each (an untagged row
# under null), a split line under its parent's tags.
_TAG_JOIN = """LEFT JOIN ledger_transaction_tags tt ON tt.transaction_id = t.id
              LEFT JOIN ledger_tag tg ON tg.id = tt.tag_id"""

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


def _lines_sql(aggregate: str) -> str:
    """``aggregate`` (``SELECT ... FROM {from} ... WHERE {where} ... GROUP BY
    ...``, with {category}, {amount} and {amount_base} for the line's) over
    the plain rows, UNION ALL the same over the lines of split transactions.
    Each part aggregates its own rows (the plain rows go from the index scan
    straight into the aggregate); a group may come from both parts."""
    branches = []
    for line in _LINE.values():
        sql = aggregate
        for name, expr in line.items():
            sql = sql.replace("{" + name + "}", expr)
        branches.append(f"({sql})")
    return "\nUNION ALL\n".join(branches)


def _fetch_rows(aggregate: str, params: dict) -> list[tuple]:
    """The rows of ``aggregate`` over both kinds of line (one round trip, config.sql)."""
    return report_rows(_lines_sql(aggregate), params)[1]


def _fetch(aggregate: str, params: dict, names: tuple[str, ...]) -> list[dict]:
    """As _fetch_rows, each row a dict of ``names`` (its columns, in order)."""
    return [dict(zip(names, row, strict=True)) for row in _fetch_rows(aggregate, params)]


def _split_left_out(rows, amount: str = "amount") -> tuple[list[dict], list[dict]]:
    """(the converted groups, the `unconverted` list per currency: count, and
    ``amount`` summed in the currency) of a report's rows."""
    groups, left = [], {}
    for row in rows:
        code = row["left_currency"]
        if code is None:
            groups.append(row)
            continue
        entry = left.setdefault(code, {"currency": code, "count": 0, "amount": Decimal("0")})
        entry["count"] += row["count"]
        entry["amount"] += row[amount] or 0
    return groups, [left[code] for code in sorted(left)]


def _names(group_by: str, refs: set) -> dict:
    """{id: name} of the merchants or accounts some groups point at: one lookup, for the groups only."""
    if not refs or group_by not in ("merchant", "account"):
        return {}
    if group_by == "merchant":
        return dict(Merchant.objects.filter(pk__in=refs).values_list("pk", "canonical_name"))
    return dict(Account.objects.filter(pk__in=refs).values_list("pk", "name"))


# The name a group goes under, from its key columns: a merchant's or an
# account's name (looked up once per distinct id, never joined to every row),
# a merchant-less row's raw text, a category or tag as it is.
_NAME_TABLES = {"merchant": ("merchants_merchant", "canonical_name"), "account": ("ledger_account", "name")}

# How groups are ordered in a period: largest first, then by name (code
# point order, as Python compares strings; no name last).
_GROUP_ORDER = 'amount DESC, key IS NULL, key COLLATE "C"'


def _spending_sql(group_by: str, limit: int | None) -> str:
    """One statement answering (periods, unconverted) of a spending report as
    JSON text, built by PostgreSQL: the rows aggregate per period and key as
    they are read (index-only, `_lines_sql`), the groups take their names and
    merge by name (two merchants of one name, a merchant and the same text
    without one), and each period's groups are one json_agg in order. With
    ``limit``, the groups after the first ``limit`` of a period are summed
    into its `other` (amount, count, how many groups)."""
    spent = "{category} <> %(income)s"
    if group_by == "tag":
        groups = _lines_sql(
            f"""SELECT {_PERIOD} AS period, tg.name AS k, NULL::uuid AS ref, NULL::text AS left_currency,
                       sum({{amount_base}}) AS amount, count(*) AS count
                FROM {{from}} {_TAG_JOIN}
                WHERE {{where}} AND {spent} AND {{amount_base}} IS NOT NULL
                GROUP BY 1, 2"""
        )
        # A row under two tags is in two groups but in its period's total (and the unconverted list) once.
        totals = _lines_sql(
            f"""SELECT {_PERIOD} AS period, {_LEFT_CURRENCY} AS left_currency, sum({_SUM}) AS amount, count(*) AS count
                FROM {{from}} WHERE {{where}} AND {spent}
                GROUP BY 1, 2"""
        )
        ctes = f"""g AS ({groups}),
            t AS ({totals}),
            totals AS (SELECT period, sum(amount) AS total FROM t WHERE left_currency IS NULL GROUP BY 1),
            left_out AS (SELECT left_currency, sum(count) AS count, sum(amount) AS amount
                         FROM t WHERE left_currency IS NOT NULL GROUP BY 1),"""
    else:
        key, ref = _GROUP_KEYS[group_by]
        groups = _lines_sql(
            f"""SELECT {_PERIOD} AS period, {key} AS k, {ref} AS ref, {_LEFT_CURRENCY} AS left_currency,
                       sum({_SUM}) AS amount, count(*) AS count
                FROM {{from}} WHERE {{where}} AND {spent}
                GROUP BY 1, 2, 3, 4"""
        )
        ctes = f"""g AS ({groups}),
            left_out AS (SELECT left_currency, sum(count) AS count, sum(amount) AS amount
                         FROM g WHERE left_currency IS NOT NULL GROUP BY 1),"""
    if group_by in _NAME_TABLES:
        table, column = _NAME_TABLES[group_by]
        # A scalar lookup per distinct id: an index probe each, whatever the planner guesses of g.
        ctes += f"""
            refs AS (SELECT r.ref, (SELECT n.{column} FROM {table} n WHERE n.id = r.ref) AS name
                     FROM (SELECT DISTINCT ref FROM g WHERE ref IS NOT NULL AND left_currency IS NULL) r),
            named AS (SELECT g.period, coalesce(refs.name, g.k) AS key, sum(g.amount) AS amount,
                             sum(g.count)::bigint AS count
                      FROM g LEFT JOIN refs ON refs.ref = g.ref WHERE g.left_currency IS NULL GROUP BY 1, 2),"""
    else:  # the key is the name; a group comes from each kind of line at most once
        ctes += """
            named AS (SELECT period, k AS key, sum(amount) AS amount, sum(count)::bigint AS count
                      FROM g WHERE left_currency IS NULL GROUP BY 1, 2),"""
    group = "json_build_object('key', key, 'amount', amount::text, 'count', count)"
    total = "(SELECT tt.total FROM totals tt WHERE tt.period = p.period)" if group_by == "tag" else "p.total"
    if limit is None:
        per_period = f"""SELECT period, sum(amount) AS total, json_agg({group} ORDER BY {_GROUP_ORDER}) AS groups
                         FROM named GROUP BY 1"""
        other = ""
    else:
        per_period = f"""SELECT period, sum(amount) AS total,
                                coalesce(json_agg({group} ORDER BY rank) FILTER (WHERE rank <= %(limit)s), '[]')
                                    AS groups,
                                sum(amount) FILTER (WHERE rank > %(limit)s) AS other_amount,
                                sum(count) FILTER (WHERE rank > %(limit)s)::bigint AS other_count,
                                count(*) FILTER (WHERE rank > %(limit)s) AS other_groups
                         FROM (SELECT *, row_number() OVER (PARTITION BY period ORDER BY {_GROUP_ORDER}) AS rank
                               FROM named) ranked
                         GROUP BY 1"""
        other = """, 'other', CASE WHEN p.other_groups > 0 THEN json_build_object(
                        'amount', p.other_amount::text, 'count', p.other_count, 'groups', p.other_groups) END"""
    return f"""WITH {ctes}
            per_period AS ({per_period})
        SELECT
            (SELECT coalesce(json_agg(json_build_object('period', p.period, 'total', {total}::text, 'groups', p.groups
                                                        {other}) ORDER BY p.period), '[]')
             FROM per_period p)::text,
            (SELECT coalesce(json_agg(json_build_object('currency', left_currency, 'count', count::bigint,
                                                        'amount', amount::text) ORDER BY left_currency COLLATE "C"),
                             '[]')
             FROM left_out)::text"""


def spending_report_json(
    *, user, since, until, interval="month", group_by="category", accounts=None, limit=None
) -> dict:
    """Spending (rows outside Income; refunds lower their group) per period and
    group, as the API answers it: `periods` and `unconverted` are JSON text
    PostgreSQL built (config.renderers.RawJSON, rendered as they are), so a year of
    weeks by merchant (tens of thousands of groups) costs no Python per group."""
    params = _params(user=user, since=since, until=until, accounts=accounts)
    params.update(interval=interval, limit=limit)
    [(periods, unconverted)] = report_rows(_spending_sql(group_by, limit), params)[1]
    return {
        "currency": params["base"],
        "interval": interval,
        "unconverted": RawJSON(unconverted),
        "group_by": group_by,
        "since": since,
        "until": until,
        "periods": RawJSON(periods),
    }


def spending_report(*, user, since, until, interval="month", group_by="category", accounts=None, limit=None) -> dict:
    """As spending_report_json, with dates and Decimals (for callers in Python)."""
    data = spending_report_json(
        user=user, since=since, until=until, interval=interval, group_by=group_by, accounts=accounts, limit=limit
    )
    periods = orjson.loads(data["periods"].text)
    for period in periods:
        period["period"] = datetime.date.fromisoformat(period["period"])
        period["total"] = Decimal(period["total"])
        for group in period["groups"]:
            group["amount"] = Decimal(group["amount"])
        if period.get("other"):
            period["other"]["amount"] = Decimal(period["other"]["amount"])
    unconverted = orjson.loads(data["unconverted"].text)
    for entry in unconverted:
        entry["amount"] = Decimal(entry["amount"])
    return {**data, "periods": periods, "unconverted": unconverted}


def cashflow_report(*, user, since, until, interval="month", accounts=None) -> dict:
    """Income (money in under Income), spending (everything else, net of refunds), net and savings rate."""
    params = _params(user=user, since=since, until=until, accounts=accounts)
    params["interval"] = interval
    rows = _fetch(
        f"""SELECT {_PERIOD} AS period, {_LEFT_CURRENCY} AS left_currency,
                   sum({_SUM}) FILTER (WHERE {{category}} = %(income)s) AS income,
                   sum({_SUM}) FILTER (WHERE {{category}} <> %(income)s) AS spending,
                   count(*) AS count
            FROM {{from}} WHERE {{where}}
            GROUP BY 1, 2""",
        params,
        ("period", "left_currency", "income", "spending", "count"),
    )
    for row in rows:  # what an unconverted group left out: all its rows, in their own currency
        row["amount"] = (row["income"] or 0) + (row["spending"] or 0)
    rows, left = _split_left_out(rows)
    by_period: dict[datetime.date, list] = {}
    for row in rows:
        sums = by_period.setdefault(row["period"], [Decimal("0"), Decimal("0")])
        sums[0] -= row["income"] or 0
        sums[1] += row["spending"] or 0
    periods = []
    for day in sorted(by_period):
        income, spending = by_period[day]
        net = income - spending
        rate = (net * 100 / income).quantize(Decimal("0.1")) if income > 0 else None
        if rate is not None:  # a cent of income against billions spent: clamped to fit the field
            rate = max(-SAVINGS_RATE_MAX, min(SAVINGS_RATE_MAX, rate))
        periods.append({"period": day, "income": income, "spending": spending, "net": net, "savings_rate": rate})
    return {
        "currency": params["base"],
        "interval": interval,
        "since": since,
        "until": until,
        "periods": periods,
        "unconverted": left,
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
    key, ref = _GROUP_KEYS["merchant"]
    # One pass for both dimensions: grouping sets per category (GROUPING 1) and per merchant (2).
    rows = _fetch(
        f"""SELECT GROUPING({{category}}, {ref}) AS grouping_set, {{category}} AS category, {key} AS k, {ref} AS ref,
                   {_LEFT_CURRENCY} AS left_currency,
                   sum({_SUM}) FILTER (WHERE t.date >= %(current)s) AS amount,
                   sum({_SUM}) FILTER (WHERE t.date >= %(previous)s AND t.date < %(current)s) AS previous,
                   sum({_SUM}) FILTER (WHERE t.date < %(current)s) AS before,
                   sum({_SUM}) AS total, count(*) AS count
            FROM {{from}} WHERE {{where}} AND {{category}} <> %(income)s
            GROUP BY GROUPING SETS ((2, 5), (3, 4, 5))""",
        params,
        ("grouping_set", "category", "k", "ref", "left_currency", "amount", "previous", "before", "total", "count"),
    )
    # Both dimensions see the same rows: the category set says what was left out.
    categories = [row for row in rows if row["grouping_set"] == 1]
    merchants = [row for row in rows if row["grouping_set"] == 2 and row["left_currency"] is None]
    categories, left = _split_left_out(categories, amount="total")
    names = _names("merchant", {row["ref"] for row in merchants if row["ref"] is not None})
    for dimension, found in (("categories", categories), ("merchants", merchants)):
        sums: dict = {}
        for row in found:
            if dimension == "categories":
                name = row["category"]
            else:  # a merchant-less row under its raw text
                name = row["k"] if row["ref"] is None else names.get(row["ref"], row["k"])
            entry = sums.setdefault(name, [Decimal("0")] * 3)
            for i, column in enumerate(("amount", "previous", "before")):
                entry[i] += row[column] or 0
        results = []
        for name, (amount, previous, before) in sums.items():
            average = (before / 3).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            results.append(
                {"key": name, "amount": amount, "previous": previous, "average_3": average,
                 "change": amount - previous, "change_vs_average": amount - average}
            )  # fmt: skip
        results.sort(key=lambda r: (-abs(r["change"]), str(r["key"])))
        out[dimension] = results[:limit]
    out["unconverted"] = left
    return out


def _period_start(day: datetime.date, interval: str) -> datetime.date:
    if interval == "month":
        return day.replace(day=1)
    if interval == "week":
        return day - datetime.timedelta(days=day.weekday())
    return day
