"""Portfolio reads: the holdings list, the stale rule, the API's holding
shape and the summary. A holding is stale when it was never valued or its
``valued_at`` is more than 24 hours old."""

import datetime
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from config.selectors import get_or_not_found
from ledger.models import PortfolioHolding
from ledger.portfolio.identifiers import identifier_equivalents
from ledger.portfolio.money import fixed8_str, gain_percent, money_str

STALE_AFTER = datetime.timedelta(hours=24)


def stale_q(*, now: datetime.datetime) -> Q:
    """The stale rule as a filter; ``holding_is_stale`` is the same rule for a loaded row."""
    return Q(valued_at__isnull=True) | Q(valued_at__lt=now - STALE_AFTER)


def holding_is_stale(holding: PortfolioHolding, *, now: datetime.datetime) -> bool:
    return holding.valued_at is None or holding.valued_at < now - STALE_AFTER


def holding_list(*, user) -> QuerySet[PortfolioHolding]:
    return PortfolioHolding.objects.filter(user=user).order_by("asset_type", "identifier", "id")


def holding_get(*, user, holding_id) -> PortfolioHolding:
    return get_or_not_found(PortfolioHolding.objects.filter(user=user), "Holding not found.", id=holding_id)


def holding_find_duplicate(*, user, asset_type: str, identifier: str, exclude_id=None):
    """The id of the user's holding of this type and (normalised) identifier, or
    of the same asset under another form (a bond's ISIN for its CUSIP), or None."""
    same_asset = identifier_equivalents(asset_type=asset_type, identifier=identifier)
    return (
        PortfolioHolding.objects.filter(user=user, asset_type=asset_type, identifier__in=same_asset)
        .exclude(pk=exclude_id)
        .values_list("id", flat=True)
        .first()
    )


def iso_utc(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def holding_output(holding: PortfolioHolding, *, now: datetime.datetime | None = None) -> dict:
    """The API's (and portfolio_update's) JSON-safe holding: money as 2-decimal
    strings, units and prices as 8-decimal strings, the gain null until valued."""
    now = now or timezone.now()
    gain = None if holding.last_valuation is None else holding.last_valuation - holding.cost_basis
    percent = None if gain is None else gain_percent(gain, holding.cost_basis)
    return {
        "id": str(holding.id),
        "asset_type": holding.asset_type,
        "identifier": holding.identifier,
        "name": holding.name,
        "currency": holding.currency,
        "units": fixed8_str(holding.units),
        "cost_basis": money_str(holding.cost_basis),
        "last_price": fixed8_str(holding.last_price),
        "last_valuation": money_str(holding.last_valuation),
        "unrealised_gain": money_str(gain),
        "unrealised_gain_pct": money_str(percent),
        "valued_at": iso_utc(holding.valued_at),
        "price_source": holding.price_source,
        "is_stale": holding_is_stale(holding, now=now),
        "created_at": iso_utc(holding.created_at),
        "updated_at": iso_utc(holding.updated_at),
    }


def _figures(rows: list[tuple[Decimal, Decimal | None, bool]]) -> dict:
    """Totals over (cost_basis, last_valuation, stale) rows. A holding never
    valued counts at its cost: no gain until it has a price (it is listed as stale)."""
    cost = sum((cost for cost, _, _ in rows), Decimal("0.00"))
    market = sum((cost if value is None else value for cost, value, _ in rows), Decimal("0.00"))
    gain = market - cost
    return {
        "holding_count": len(rows),
        "valued_count": sum(1 for _, value, _ in rows if value is not None),
        "stale_count": sum(1 for _, _, stale in rows if stale),
        "cost_basis": money_str(cost),
        "market_value": money_str(market),
        "unrealised_gain": money_str(gain),
        "unrealised_gain_pct": money_str(gain_percent(gain, cost)),
    }


def _totals_in_base(*, user, by_currency: dict, on: datetime.date) -> tuple[dict, list]:
    """Every currency's cost basis and market value converted to the user's
    base currency at the ECB rate of ``on`` (or up to 7 days before) and
    added; currencies without a rate are left out and listed (never at 1)."""
    from ledger.currency.selectors import amount_convert, conversions

    base = user.base_currency
    rates = conversions((currency, base, on) for currency in by_currency)
    cost, market = Decimal("0.00"), Decimal("0.00")
    unconverted = []
    for currency, rows in sorted(by_currency.items()):
        figures = _figures(rows)
        rate = rates.get((currency, base, on))
        if rate is None:
            unconverted.append({"currency": currency, "count": len(rows), "amount": figures["market_value"]})
            continue
        cost += amount_convert(Decimal(figures["cost_basis"]), rate)
        market += amount_convert(Decimal(figures["market_value"]), rate)
    gain = market - cost
    return (
        {
            "currency": base,
            "cost_basis": money_str(cost),
            "market_value": money_str(market),
            "unrealised_gain": money_str(gain),
            "unrealised_gain_pct": money_str(gain_percent(gain, cost)),
        },
        unconverted,
    )


def portfolio_summary(*, user, now: datetime.datetime | None = None) -> dict:
    """Totals per currency and per (currency, asset type), counts and the stale
    holdings, from one query; beside them, the totals in the base currency
    (``totals_base``, converted at today's ECB rates) and the currencies that
    had no rate (``unconverted``)."""
    now = now or timezone.now()
    holdings = list(holding_list(user=user))
    by_currency: dict[str, list] = {}
    by_type: dict[tuple[str, str], list] = {}
    stale = []
    for holding in holdings:
        is_stale = holding_is_stale(holding, now=now)
        row = (holding.cost_basis, holding.last_valuation, is_stale)
        by_currency.setdefault(holding.currency, []).append(row)
        by_type.setdefault((holding.currency, holding.asset_type), []).append(row)
        if is_stale:
            stale.append(
                {
                    "id": str(holding.id),
                    "asset_type": holding.asset_type,
                    "identifier": holding.identifier,
                    "name": holding.name,
                    "currency": holding.currency,
                    "valued_at": iso_utc(holding.valued_at),
                }
            )
    totals_base, unconverted = _totals_in_base(user=user, by_currency=by_currency, on=now.date())
    return {
        "as_of": iso_utc(now),
        "base_currency": user.base_currency,
        "totals_base": totals_base,
        "unconverted": unconverted,
        "stale_after_hours": int(STALE_AFTER.total_seconds() // 3600),
        "holding_count": len(holdings),
        "valued_count": sum(1 for h in holdings if h.last_valuation is not None),
        "stale_count": len(stale),
        "currencies": sorted(by_currency),
        "totals": [{"currency": currency, **_figures(rows)} for currency, rows in sorted(by_currency.items())],
        "by_asset_type": [
            {"currency": currency, "asset_type": asset_type, **_figures(rows)}
            for (currency, asset_type), rows in sorted(by_type.items())
        ],
        "stale": stale,
    }
