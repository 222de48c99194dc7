"""Reads of the currency room: the currencies, the rates of a date, one
conversion, and what a total had to leave out (``unconverted``)."""

import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import Count, DecimalField, F, Func, Q, QuerySet, Sum

from config.currencies import ISO_4217
from ledger.currency.services import FALLBACK_DAYS, amount_convert
from ledger.models import ExchangeRate


def history_loaded() -> bool:
    return ExchangeRate.objects.filter(source=ExchangeRate.Source.ECB_HISTORY).exists()


def _currency_name(code: str) -> str:
    import pycountry

    found = pycountry.currencies.get(alpha_3=code)
    return found.name if found else code


def currency_list() -> list[dict]:
    """Every ISO 4217 code with its name and the dates its rates cover (EUR: always 1)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT currency, min(date), max(date), count(*) FROM ledger_exchangerate GROUP BY currency")
        spans = {row[0]: row[1:] for row in cursor.fetchall()}
    out = []
    for code in sorted(ISO_4217):
        first, last, count = spans.get(code, (None, None, 0))
        out.append(
            {
                "code": code,
                "name": _currency_name(code),
                "has_rates": code == "EUR" or count > 0,
                "rates_from": first,
                "rates_until": last,
            }
        )
    return out


def rates_on(*, on: datetime.date, currency: str | None = None) -> list[dict]:
    """Per currency, the rate of ``on`` or of the closest earlier date within 7 days (units per 1 EUR)."""
    queryset = ExchangeRate.objects.filter(date__lte=on, date__gte=on - datetime.timedelta(days=FALLBACK_DAYS))
    if currency:
        queryset = queryset.filter(currency=currency)
    rows = queryset.order_by("currency", "-date").distinct("currency").values("currency", "date", "rate", "source")
    return [{"currency": r["currency"], "rate": r["rate"], "date": r["date"], "source": r["source"]} for r in rows]


def conversion(*, amount: Decimal, from_currency: str, to_currency: str, on: datetime.date) -> dict:
    """One amount converted as a transaction would be: {amount, rate, rate_date}, all None without a rate."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rate, rate_date FROM ledger_fx_rate(%s, %s, %s)", [from_currency, to_currency, on])
        rate, rate_date = cursor.fetchone()
    if rate is None:
        return {"amount": None, "rate": None, "rate_date": None}
    return {"amount": amount_convert(amount, rate), "rate": rate, "rate_date": rate_date}


def converted_filter(base_currency: str, prefix: str = "") -> Q:
    """Rows whose amount_base is in ``base_currency`` (a row awaiting a recompute after a change is not)."""
    return Q(**{f"{prefix}amount_base__isnull": False, f"{prefix}base_currency": base_currency})


def unconverted(queryset: QuerySet, *, base_currency: str, amount: str = "amount") -> list[dict]:
    """The rows of ``queryset`` a total in ``base_currency`` had to leave out,
    per currency: [{currency, count, amount}] (amount in that currency)."""
    rows = (
        queryset.exclude(converted_filter(base_currency))
        .order_by()
        .values("currency")
        .annotate(count=Count("id"), total=Sum(amount))
        .order_by("currency")
    )
    return [{"currency": r["currency"], "count": r["count"], "amount": r["total"]} for r in rows]


class ConvertedAmount(Func):
    """SQL: ``amount`` in ``currency`` on ``on`` converted to ``to`` exactly as
    a transaction is (NULL without a rate). For split lines and balances."""

    function = "ledger_convert_amount"
    output_field = DecimalField(max_digits=14, decimal_places=2)

    def __init__(self, amount, currency, to, on, **extra):
        super().__init__(amount, currency, to, on, **extra)


def split_line_base(prefix: str = "transaction__") -> ConvertedAmount:
    """A split line's amount in its transaction's base currency (as the parent's amount_base is)."""
    return ConvertedAmount(F("amount"), F(f"{prefix}currency"), F(f"{prefix}base_currency"), F(f"{prefix}date"))


def conversions(pairs) -> dict[tuple[str, str, datetime.date], Decimal | None]:
    """Many (from, to, on) cross rates in one statement: {(from, to, on): rate or None}."""
    pairs = sorted(set(pairs))
    if not pairs:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT v.f, v.t, v.d, fx.rate
               FROM unnest(%s::varchar[], %s::varchar[], %s::date[]) AS v(f, t, d),
                    LATERAL ledger_fx_rate(v.f, v.t, v.d) fx""",
            [[p[0] for p in pairs], [p[1] for p in pairs], [p[2] for p in pairs]],
        )
        return {(f, t, d): rate for f, t, d, rate in cursor.fetchall()}


def unconverted_merge(*lists) -> list[dict]:
    """Several unconverted lists as one, per currency."""
    merged: dict[str, dict] = {}
    for rows in lists:
        for row in rows:
            into = merged.setdefault(row["currency"], {"currency": row["currency"], "count": 0, "amount": Decimal(0)})
            into["count"] += row["count"]
            into["amount"] += row["amount"] or 0
    return [merged[code] for code in sorted(merged)]
