"""Reads for accounts, balances, transfers and net worth.

Balances are computed, not stored: an account's balance is its opening
balance minus the sum of its live rows, read from the partial index
ledger_tx_account_date_idx (account, date) INCLUDE (amount) WHERE NOT
is_deleted, so the sum is an index-only scan. A series is one query: daily
sums per period, a running window over the periods, periods without rows
filled from generate_series. Nothing has to be kept in step, so a
back-dated row, a delete or a restore is right on the next read.
"""

import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, F, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from config.errors import Invalid, NotFound
from ledger.models import Account, SplitLine, Transaction, Transfer, TransferSuggestion

INTERVALS = ("day", "week", "month")
MONEY = DecimalField(max_digits=20, decimal_places=2)
ZERO = Decimal("0.00")


def _live_sum(**outer):
    rows = (
        Transaction.objects.filter(is_deleted=False, **outer)
        .order_by()
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    return Coalesce(Subquery(rows, output_field=MONEY), Value(ZERO), output_field=MONEY)


def account_list(*, user, filters: dict | None = None):
    """The user's accounts with `balance`, open ones first, then by name."""
    from ledger.books.filters import AccountFilterSet

    queryset = (
        Account.objects.filter(user=user)
        .annotate(flow=_live_sum(account_id=OuterRef("pk")))
        .order_by(F("closed_at").asc(nulls_first=True), "name")
    )
    if filters:
        filterset = AccountFilterSet(filters, queryset=queryset)
        if not filterset.is_valid():
            raise Invalid(filterset.errors)
        queryset = filterset.qs
    return queryset


def account_get(*, user, account_id) -> Account:
    """The user's account with `flow` annotated; anyone else's is a 404."""
    try:
        return account_list(user=user).get(id=account_id)
    except (Account.DoesNotExist, ValueError, TypeError):
        raise NotFound("Account not found.")


def account_balance(account: Account, *, on: datetime.date | None = None) -> Decimal:
    rows = Transaction.objects.filter(account=account, is_deleted=False)
    if on is not None:
        rows = rows.filter(date__lte=on)
    return account.opening_balance - (rows.aggregate(total=Sum("amount"))["total"] or ZERO)


def balance_of(account: Account) -> Decimal:
    """The balance of an account read through account_list/account_get."""
    flow = getattr(account, "flow", None)
    if flow is None:
        return account_balance(account)
    return account.opening_balance - flow


def account_is_empty(account: Account) -> bool:
    return not Transaction.objects.filter(account=account).exists()


def account_categories(account: Account) -> set[str]:
    """The categories the account's live rows count in (a split row's lines by their own)."""
    rows = Transaction.objects.live().filter(account=account)
    plain = set(rows.order_by().values_list("category", flat=True).distinct())
    lines = SplitLine.objects.filter(transaction__in=rows.filter(is_split=True))
    return plain | set(lines.order_by().values_list("category", flat=True).distinct())


def _period_start(day: datetime.date, interval: str) -> datetime.date:
    if interval == "month":
        return day.replace(day=1)
    if interval == "week":
        return day - datetime.timedelta(days=day.weekday())
    return day


# %(iv)s is one of INTERVALS (checked), the rest are parameters.
_SERIES_SQL = """
WITH periods AS (
    SELECT gs::date AS period
    FROM generate_series(%(start)s::date, %(until)s::date, ('1 ' || %(iv)s)::interval) AS gs
), flows AS (
    SELECT CASE WHEN date < %(start)s THEN %(start)s::date - 1 ELSE date_trunc(%(iv)s, date)::date END AS period,
           SUM(amount) AS flow,
           SUM(amount) FILTER (WHERE amount > 0) AS money_out,
           -SUM(amount) FILTER (WHERE amount < 0) AS money_in
    FROM ledger_transaction
    WHERE account_id = %(account)s AND NOT is_deleted AND date <= %(until)s
    GROUP BY 1
)
SELECT period, balance, money_in, money_out FROM (
    SELECT COALESCE(p.period, f.period) AS period, p.period IS NOT NULL AS shown,
           %(opening)s - SUM(COALESCE(f.flow, 0)) OVER (ORDER BY COALESCE(p.period, f.period)) AS balance,
           COALESCE(f.money_in, 0) AS money_in, COALESCE(f.money_out, 0) AS money_out
    FROM periods p FULL JOIN flows f ON f.period = p.period
) s
WHERE shown ORDER BY period
"""


def account_balance_series(*, account: Account, since: datetime.date, until: datetime.date, interval: str) -> list:
    """[{period, balance (at the period's end), money_in, money_out}] for
    every period from the one holding `since` to the one holding `until`."""
    assert interval in INTERVALS
    start = _period_start(since, interval)
    with connection.cursor() as cursor:
        cursor.execute(
            _SERIES_SQL,
            {"start": start, "until": until, "iv": interval, "account": account.pk, "opening": account.opening_balance},
        )
        rows = cursor.fetchall()
    return [
        {"period": period, "balance": balance, "money_in": money_in, "money_out": money_out}
        for period, balance, money_in, money_out in rows
    ]


_NET_WORTH_SQL = """
WITH accounts AS (
    SELECT id, currency, opening_balance, opening_date FROM ledger_account
    WHERE user_id = %(user)s
      AND CASE WHEN %(accounts)s::uuid[] IS NULL THEN include_in_net_worth ELSE id = ANY(%(accounts)s::uuid[]) END
), periods AS (
    SELECT gs::date AS period
    FROM generate_series(%(start)s::date, %(until)s::date, ('1 ' || %(iv)s)::interval) AS gs
), flows AS (
    -- Everything before the first period as one sum per account, then a sum per account and
    -- period (date_trunc on a timestamp: on a timestamptz it converts through the time zone).
    SELECT t.account_id, %(start)s::date - 1 AS period, SUM(t.amount) AS flow
    FROM ledger_transaction t JOIN accounts a ON a.id = t.account_id
    WHERE NOT t.is_deleted AND t.date < %(start)s
    GROUP BY 1
    UNION ALL
    SELECT t.account_id, date_trunc(%(iv)s, t.date::timestamp)::date, SUM(t.amount)
    FROM ledger_transaction t JOIN accounts a ON a.id = t.account_id
    WHERE NOT t.is_deleted AND t.date BETWEEN %(start)s AND %(until)s
    GROUP BY 1, 2
), grid AS (
    SELECT a.id AS account_id, p.period FROM accounts a CROSS JOIN periods p
    UNION SELECT account_id, period FROM flows
), running AS (
    SELECT g.account_id, g.period,
           SUM(COALESCE(f.flow, 0)) OVER (PARTITION BY g.account_id ORDER BY g.period) AS spent
    FROM grid g LEFT JOIN flows f ON f.account_id = g.account_id AND f.period = g.period
)
SELECT r.period, r.account_id,
       -- An account opened after a period's end held nothing then (unless rows predate its opening).
       CASE WHEN a.opening_date > (r.period + ('1 ' || %(iv)s)::interval - interval '1 day')::date
                 AND NOT EXISTS (SELECT 1 FROM flows f WHERE f.account_id = r.account_id AND f.period <= r.period)
            THEN 0 ELSE a.opening_balance - r.spent END AS balance
FROM running r JOIN accounts a ON a.id = r.account_id
WHERE r.period >= %(start)s
ORDER BY r.period, r.account_id
"""


def _period_end(period: datetime.date, interval: str, until: datetime.date) -> datetime.date:
    if interval == "day":
        end = period
    elif interval == "week":
        end = period + datetime.timedelta(days=6)
    else:
        following = (period.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        end = following - datetime.timedelta(days=1)
    return min(end, until)


def _net_worth_point(period, base) -> dict:
    return {
        "period": period,
        "currencies": {},
        "base": {"currency": base, "assets": ZERO, "liabilities": ZERO, "net_worth": ZERO},
        "unconverted": {},
    }


def net_worth_series(
    *,
    user,
    since: datetime.date,
    until: datetime.date,
    interval: str = "month",
    accounts: list | None = None,
    per_account: bool = False,
) -> list:
    """Per period and currency: assets (balances of asset accounts),
    liabilities (what liability accounts owe, positive) and net worth, at
    each period's end; and the same in the user's base currency, each
    currency's balances converted at the ECB rate of the period's end (or up
    to 7 days before). A currency without a rate is left out of `base` and
    listed in `unconverted` (never at 1). Over the accounts with
    include_in_net_worth, or exactly the `accounts` asked for (an explicit
    choice overrides the flag). With per_account, each point also lists every
    account's balance, in its own currency and in base. Three queries: the
    balances, the accounts, then every rate they need."""
    from ledger.currency.selectors import conversions

    assert interval in INTERVALS
    start = _period_start(since, interval)
    params = {"user": user.pk, "start": start, "until": until, "iv": interval, "accounts": accounts or None}
    with connection.cursor() as cursor:
        cursor.execute(_NET_WORTH_SQL, params)
        rows = cursor.fetchall()
    by_id = {a.pk: a for a in Account.objects.filter(pk__in={account_id for _, account_id, _ in rows})}
    base = user.base_currency
    rates = conversions((by_id[a].currency, base, _period_end(p, interval, until)) for p, a, _ in rows)
    periods: dict = {}
    for period, account_id, balance in rows:
        account = by_id[account_id]
        point = periods.setdefault(period, _net_worth_point(period, base))
        side = "liabilities" if account.is_liability else "assets"
        owed = -balance if account.is_liability else balance
        totals = point["currencies"].setdefault(
            account.currency, {"currency": account.currency, "assets": ZERO, "liabilities": ZERO, "net_worth": ZERO}
        )
        totals[side] += owed
        totals["net_worth"] += balance
        rate = rates.get((account.currency, base, _period_end(period, interval, until)))
        converted = None if rate is None else amount_in(balance, rate)
        if converted is None:
            missing = point["unconverted"].setdefault(
                account.currency, {"currency": account.currency, "count": 0, "amount": ZERO}
            )
            missing["count"] += 1
            missing["amount"] += balance
        else:
            point["base"][side] += -converted if account.is_liability else converted
            point["base"]["net_worth"] += converted
        if per_account:
            point.setdefault("accounts", []).append(
                {
                    "account": account.pk,
                    "name": account.name,
                    "kind": account.kind,
                    "currency": account.currency,
                    "balance": balance,
                    "balance_base": converted,
                }
            )
    for point in periods.values():
        point["currencies"] = [point["currencies"][code] for code in sorted(point["currencies"])]
        point["unconverted"] = [point["unconverted"][code] for code in sorted(point["unconverted"])]
        if per_account:
            point.setdefault("accounts", [])
    return list(periods.values())


def amount_in(amount: Decimal, rate: Decimal) -> Decimal:
    from ledger.currency.selectors import amount_convert

    return amount_convert(amount, rate)


def account_balances_base(*, user, accounts, on: datetime.date | None = None) -> dict:
    """{account id: balance in the user's base currency or None (no rate)}, at
    the ECB rate of ``on`` (default today, or up to 7 days before); one query."""
    from django.utils import timezone

    from ledger.currency.selectors import conversions

    on = on or timezone.localdate()
    base = user.base_currency
    rates = conversions((account.currency, base, on) for account in accounts)
    out = {}
    for account in accounts:
        rate = rates.get((account.currency, base, on))
        out[account.id] = None if rate is None else amount_in(balance_of(account), rate)
    return out


def transfer_list(*, user):
    return (
        Transfer.objects.filter(user=user)
        .select_related("out_leg__account", "in_leg__account")
        .order_by("-out_leg__date", "-created_at", "-id")
    )


def transfer_get(*, user, transfer_id) -> Transfer:
    try:
        return transfer_list(user=user).get(id=transfer_id)
    except (Transfer.DoesNotExist, ValueError, TypeError):
        raise NotFound("Transfer not found.")


def suggestion_list(*, user):
    """Open suggestions whose legs are both still live and unlinked."""
    return (
        TransferSuggestion.objects.filter(
            user=user,
            status=TransferSuggestion.Status.OPEN,
            out_leg__is_deleted=False,
            in_leg__is_deleted=False,
            out_leg__transfer__isnull=True,
            in_leg__transfer__isnull=True,
        )
        .select_related("out_leg__account", "in_leg__account")
        .order_by("date_diff", "-out_leg__date", "id")
    )


def suggestion_get(*, user, suggestion_id) -> TransferSuggestion:
    try:
        return TransferSuggestion.objects.select_related("out_leg", "in_leg").get(user=user, id=suggestion_id)
    except (TransferSuggestion.DoesNotExist, ValueError, TypeError):
        raise NotFound("Suggestion not found.")
