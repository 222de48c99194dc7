"""Portfolio holdings: services (writes) and selectors (reads).

Identifiers are normalised per asset type before they are stored or compared,
so "aapl" and "AAPL" are the same holding (unique per user, type and
identifier; a duplicate is a 409 carrying existing_id):
- stock, etf: a ticker, upper-cased: letters and digits, parts joined by "."
  or "-" (BRK.B, RDS-A) with an optional exchange suffix (VWRL.L), at most 12.
- crypto: a symbol, upper-cased, letters and digits, at most 20.
- bond: an ISIN (12 characters) or a CUSIP (9), upper-cased, spaces and
  hyphens dropped, check digit verified.
- cash: an ISO 4217 code, three letters, upper-cased. A cash holding's
  currency defaults to that code.
- other: free text, trimmed, inner whitespace collapsed to one space.

Money is Decimal throughout. ``last_valuation`` is units x ``last_price``
rounded to the cent ROUND_HALF_UP (the rounding every Tally amount uses); a
change of units re-applies the last price, a change of type, identifier or
currency clears the valuation (the price was for something else). A holding
is stale when it was never valued or its ``valued_at`` is more than 24 hours
old. ``portfolio_update`` goes out when a valuation changes a holding."""

import datetime
import logging
import re
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework.exceptions import NotFound, ValidationError

from config.exceptions import Conflict
from ledger.models import PortfolioHolding
from ledger.portfolio.prices import Instrument, PriceSource, price_source_load
from realtime.services import notify_portfolio_update

logger = logging.getLogger(__name__)

AssetType = PortfolioHolding.AssetType
CENT = Decimal("0.01")
STALE_AFTER = datetime.timedelta(hours=24)
# A client's or a source's clock may run a little ahead of ours.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
# Instruments asked of the price source per call.
PRICE_BATCH = 500
# (max_digits, decimal_places) of the columns, for callers that bypass the API serializers.
UNITS_SHAPE = (20, 8)
MONEY_SHAPE = (12, 2)
PRICE_SHAPE = (20, 8)

TICKER_RE = re.compile(r"[A-Z0-9]+(?:[.\-][A-Z0-9]+)*")
TICKER_MAX = 12
CRYPTO_RE = re.compile(r"[A-Z0-9]{1,20}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
ISIN_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")
CUSIP_RE = re.compile(r"[A-Z0-9*@#]{8}[0-9]")
IDENTIFIER_MAX = PortfolioHolding._meta.get_field("identifier").max_length
NAME_MAX = PortfolioHolding._meta.get_field("name").max_length
SOURCE_MAX = PortfolioHolding._meta.get_field("price_source").max_length


def _invalid(field: str, message: str, code: str = "invalid") -> ValidationError:
    return ValidationError({field: [message]}, code=code)


# Identifiers


def _luhn_ok(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def isin_is_valid(value: str) -> bool:
    """ISO 6166: letters count as 10..35, then the Luhn check over the digit string."""
    return bool(ISIN_RE.fullmatch(value)) and _luhn_ok("".join(str(int(char, 36)) for char in value))


def cusip_is_valid(value: str) -> bool:
    if not CUSIP_RE.fullmatch(value):
        return False
    total = 0
    for position, char in enumerate(value[:8]):
        number = int(char, 36) if char.isalnum() else 36 + "*@#".index(char)
        if position % 2:
            number *= 2
        total += number // 10 + number % 10
    return (10 - total % 10) % 10 == int(value[8])


# ISINs of these countries embed the CUSIP: "US" + CUSIP + check digit.
CUSIP_COUNTRIES = ("US", "CA")


def _isin_for(country: str, cusip: str) -> str:
    digits = "".join(str(int(char, 36)) for char in country + cusip)
    check = next(d for d in range(10) if _luhn_ok(digits + str(d)))
    return f"{country}{cusip}{check}"


def identifier_equivalents(*, asset_type: str, identifier: str) -> set[str]:
    """Every stored form that names the same asset: a US or Canadian bond's
    ISIN and its CUSIP are one bond."""
    if asset_type != AssetType.BOND:
        return {identifier}
    if len(identifier) == 12 and identifier[:2] in CUSIP_COUNTRIES:
        return {identifier, identifier[2:11]}
    if len(identifier) == 9:
        return {identifier, *(_isin_for(country, identifier) for country in CUSIP_COUNTRIES)}
    return {identifier}


def identifier_normalize(*, asset_type: str, identifier: str) -> str:
    """The stored form of ``identifier`` for ``asset_type``; a 400 on ``identifier`` if it is not one."""
    raw = identifier or ""
    if asset_type in (AssetType.STOCK, AssetType.ETF):
        value = raw.strip().upper()
        if len(value) > TICKER_MAX or not TICKER_RE.fullmatch(value):
            raise _invalid(
                "identifier",
                "A ticker is letters and digits, parts joined by '.' or '-' (BRK.B, VWRL.L), at most 12 characters.",
            )
    elif asset_type == AssetType.CRYPTO:
        value = raw.strip().upper()
        if not CRYPTO_RE.fullmatch(value):
            raise _invalid("identifier", "A crypto symbol is letters and digits (BTC, ETH), at most 20 characters.")
    elif asset_type == AssetType.BOND:
        value = re.sub(r"[\s-]", "", raw).upper()
        if not (len(value) == 12 and isin_is_valid(value)) and not (len(value) == 9 and cusip_is_valid(value)):
            raise _invalid(
                "identifier", "A bond is identified by its ISIN (12 characters) or CUSIP (9) with a valid check digit."
            )
    elif asset_type == AssetType.CASH:
        value = raw.strip().upper()
        if not CURRENCY_RE.fullmatch(value):
            raise _invalid("identifier", "Cash is identified by its ISO 4217 currency code (USD, EUR).")
    elif asset_type == AssetType.OTHER:
        value = " ".join(raw.split())
        if not value:
            raise _invalid("identifier", "This field may not be blank.", code="blank")
    else:
        raise _invalid("asset_type", f"{asset_type!r} is not a valid choice.", code="invalid_choice")
    if len(value) > IDENTIFIER_MAX:
        raise _invalid("identifier", f"At most {IDENTIFIER_MAX} characters.", code="max_length")
    return value


def currency_normalize(value: str) -> str:
    code = (value or "").strip().upper()
    if not CURRENCY_RE.fullmatch(code):
        raise _invalid("currency", "An ISO 4217 currency code: three letters (USD, EUR).")
    return code


def _default_currency(*, user, asset_type: str, identifier: str) -> str:
    if asset_type == AssetType.CASH:
        return identifier
    prefs = getattr(user, "preferences", None) or {}
    preferred = str(prefs.get("currency") or "").strip().upper()
    return preferred if CURRENCY_RE.fullmatch(preferred) else "USD"


def _check_cash_currency(*, asset_type: str, identifier: str, currency: str) -> None:
    if asset_type == AssetType.CASH and currency != identifier:
        raise _invalid("currency", f"A cash holding is in its own currency ({identifier}).")


# Numbers


def _check_decimal(field: str, value, shape: tuple[int, int]) -> Decimal:
    """The column's shape and sign, for callers that bypass the API serializers (admin, tasks, shell)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise _invalid(field, "A decimal number is required.")
    max_digits, places = shape
    if value < 0:
        raise _invalid(field, "Must be zero or more.", code="min_value")
    if value == 0:
        value = abs(value)  # "-0" is zero: never store or echo a negative zero
    if -value.as_tuple().exponent > places:
        raise _invalid(field, f"At most {places} decimal places.", code="max_decimal_places")
    if value >= Decimal(10) ** (max_digits - places):
        raise _invalid(field, f"At most {max_digits - places} digits before the decimal point.", code="max_digits")
    return value


def valuation_of(*, units: Decimal, price: Decimal, field: str = "price") -> Decimal:
    """units x price to the cent, ROUND_HALF_UP; a 400 on ``field`` if it does not fit Decimal(12,2)."""
    with localcontext() as ctx:
        ctx.prec = 60  # 20 + 20 digits: exact before the one rounding below
        value = (units * price).quantize(CENT, rounding=ROUND_HALF_UP)
    if value >= Decimal(10) ** (MONEY_SHAPE[0] - MONEY_SHAPE[1]):
        raise _invalid(field, "The valuation (units x price) is above 9,999,999,999.99.", code="max_value")
    return value


def gain_percent(gain: Decimal, cost: Decimal) -> Decimal | None:
    """gain / cost in percent to 2 places, ROUND_HALF_UP; None when the cost is zero."""
    if not cost:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        percent = (gain * 100 / cost).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(percent) if percent == 0 else percent  # never "-0.00"


# Selectors


def stale_q(*, now: datetime.datetime) -> Q:
    """The stale rule as a filter; ``holding_is_stale`` is the same rule for a loaded row."""
    return Q(valued_at__isnull=True) | Q(valued_at__lt=now - STALE_AFTER)


def holding_is_stale(holding: PortfolioHolding, *, now: datetime.datetime) -> bool:
    return holding.valued_at is None or holding.valued_at < now - STALE_AFTER


def holding_list(*, user) -> QuerySet[PortfolioHolding]:
    return PortfolioHolding.objects.filter(user=user).order_by("asset_type", "identifier", "id")


def holding_get(*, user, holding_id) -> PortfolioHolding:
    try:
        return PortfolioHolding.objects.get(user=user, id=holding_id)
    except (PortfolioHolding.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Holding not found.")


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


def _money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _fixed8(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.8f}"


def _iso(value: datetime.datetime | None) -> str | None:
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
        "units": _fixed8(holding.units),
        "cost_basis": _money(holding.cost_basis),
        "last_price": _fixed8(holding.last_price),
        "last_valuation": _money(holding.last_valuation),
        "unrealised_gain": _money(gain),
        "unrealised_gain_pct": _money(percent),
        "valued_at": _iso(holding.valued_at),
        "price_source": holding.price_source,
        "is_stale": holding_is_stale(holding, now=now),
        "created_at": _iso(holding.created_at),
        "updated_at": _iso(holding.updated_at),
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
        "cost_basis": _money(cost),
        "market_value": _money(market),
        "unrealised_gain": _money(gain),
        "unrealised_gain_pct": _money(gain_percent(gain, cost)),
    }


def portfolio_summary(*, user, now: datetime.datetime | None = None) -> dict:
    """Totals per currency and per (currency, asset type), counts and the stale
    holdings, from one query. Currencies are never added together."""
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
                    "valued_at": _iso(holding.valued_at),
                }
            )
    return {
        "as_of": _iso(now),
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


# Services


def _duplicate(*, user, asset_type: str, identifier: str, exclude_id=None) -> Conflict | None:
    existing = holding_find_duplicate(user=user, asset_type=asset_type, identifier=identifier, exclude_id=exclude_id)
    if existing is None:
        return None
    return Conflict(
        f"You already hold {identifier} ({asset_type}); update that holding instead.",
        code="duplicate",
        existing_id=str(existing),
    )


def _save_unique(holding: PortfolioHolding, **save_kwargs) -> None:
    """Saves in a savepoint; a concurrent insert of the same (user, type,
    identifier) that won the race is the same 409 the check above gives."""
    try:
        with transaction.atomic():
            holding.save(**save_kwargs)
    except IntegrityError:
        conflict = _duplicate(
            user=holding.user_id, asset_type=holding.asset_type, identifier=holding.identifier, exclude_id=holding.pk
        )
        if conflict is None:
            raise
        raise conflict


@transaction.atomic
def holding_create(
    *,
    user,
    asset_type: str,
    identifier: str,
    units: Decimal,
    cost_basis: Decimal,
    name: str = "",
    currency: str | None = None,
) -> PortfolioHolding:
    identifier = identifier_normalize(asset_type=asset_type, identifier=identifier)
    currency = (
        currency_normalize(currency)
        if currency
        else _default_currency(user=user, asset_type=asset_type, identifier=identifier)
    )
    _check_cash_currency(asset_type=asset_type, identifier=identifier, currency=currency)
    holding = PortfolioHolding(
        user=user,
        asset_type=asset_type,
        identifier=identifier,
        name=" ".join((name or "").split())[:NAME_MAX],
        currency=currency,
        units=_check_decimal("units", units, UNITS_SHAPE),
        cost_basis=_check_decimal("cost_basis", cost_basis, MONEY_SHAPE),
    )
    if conflict := _duplicate(user=user, asset_type=asset_type, identifier=identifier):
        raise conflict
    _save_unique(holding, force_insert=True)
    return holding


def _lock(holding: PortfolioHolding) -> PortfolioHolding:
    locked = PortfolioHolding.objects.select_for_update().filter(pk=holding.pk).first()
    if locked is None:  # deleted since the request read it
        raise NotFound("Holding not found.")
    return locked


def _clear_valuation(holding: PortfolioHolding) -> None:
    holding.last_price = holding.last_valuation = holding.valued_at = None
    holding.price_source = ""


@transaction.atomic
def holding_update(*, holding: PortfolioHolding, **changes) -> PortfolioHolding:
    """Edit asset_type, identifier, name, currency, units or cost_basis."""
    holding = _lock(holding)
    revalued_for_something_else = False
    if "asset_type" in changes or "identifier" in changes:
        asset_type = changes.get("asset_type", holding.asset_type)
        identifier = identifier_normalize(
            asset_type=asset_type, identifier=changes.get("identifier", holding.identifier)
        )
        if (asset_type, identifier) != (holding.asset_type, holding.identifier):
            if conflict := _duplicate(
                user=holding.user_id, asset_type=asset_type, identifier=identifier, exclude_id=holding.pk
            ):
                raise conflict
            holding.asset_type, holding.identifier = asset_type, identifier
            revalued_for_something_else = True
    if "currency" in changes:
        currency = currency_normalize(changes["currency"])
        revalued_for_something_else |= currency != holding.currency
        holding.currency = currency
    if holding.asset_type == AssetType.CASH and "currency" not in changes and holding.currency != holding.identifier:
        # Now cash (or other cash): it is held in its own currency.
        holding.currency = holding.identifier
        revalued_for_something_else = True
    _check_cash_currency(asset_type=holding.asset_type, identifier=holding.identifier, currency=holding.currency)
    if "name" in changes:
        holding.name = " ".join((changes["name"] or "").split())[:NAME_MAX]
    if "units" in changes:
        holding.units = _check_decimal("units", changes["units"], UNITS_SHAPE)
    if "cost_basis" in changes:
        holding.cost_basis = _check_decimal("cost_basis", changes["cost_basis"], MONEY_SHAPE)
    valuation_before = holding.last_valuation
    if revalued_for_something_else:
        _clear_valuation(holding)
    elif holding.last_price is not None:
        holding.last_valuation = valuation_of(units=holding.units, price=holding.last_price, field="units")
    _save_unique(holding)
    if holding.last_valuation != valuation_before:
        # Live pages show the valuation: a units change moves it as a new price would.
        notify_portfolio_update(user_id=holding.user_id, holding=holding_output(holding))
    return holding


@transaction.atomic
def holding_delete(*, holding: PortfolioHolding) -> None:
    holding.delete()


def _apply_valuation(
    holding: PortfolioHolding, *, price: Decimal, source: str, valued_at: datetime.datetime, now: datetime.datetime
) -> bool:
    """Sets the valuation of a locked holding; True (and portfolio_update
    queued with the write) if anything changed. Same price, time and source
    again is a no-op, which keeps the refresh task idempotent."""
    price = _check_decimal("price", price, PRICE_SHAPE)
    if timezone.is_naive(valued_at):
        raise _invalid("valued_at", "A time zone is required.")
    if valued_at > now + FUTURE_TOLERANCE:
        raise _invalid("valued_at", "Cannot be in the future.")
    # A clock a little ahead counts as now: a stored future time would make
    # every later "now" valuation look older than it (409) until it passed.
    valued_at = min(valued_at, now)
    if holding.valued_at is not None and valued_at < holding.valued_at:
        raise Conflict(
            "The holding has a newer valuation; a price older than that would replace it.",
            code="older_valuation",
            valued_at=_iso(holding.valued_at),
        )
    value = valuation_of(units=holding.units, price=price)
    source = (source or "manual").strip()[:SOURCE_MAX]
    after = (price, value, valued_at, source)
    if (holding.last_price, holding.last_valuation, holding.valued_at, holding.price_source) == after:
        return False
    holding.last_price, holding.last_valuation, holding.valued_at, holding.price_source = after
    holding.save(update_fields=["last_price", "last_valuation", "valued_at", "price_source", "updated_at"])
    # notify() writes the Notification in this transaction and publishes after commit.
    notify_portfolio_update(user_id=holding.user_id, holding=holding_output(holding, now=now))
    return True


@transaction.atomic
def holding_revalue(
    *,
    holding: PortfolioHolding,
    price: Decimal,
    source: str = "manual",
    valued_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> PortfolioHolding:
    """Price the holding: last_price, last_valuation (units x price), valued_at
    (default now) and price_source, then ``portfolio_update``. A valuation
    older than the one stored is a 409; one in the future a 400."""
    now = now or timezone.now()
    holding = _lock(holding)
    _apply_valuation(holding, price=price, source=source, valued_at=valued_at or now, now=now)
    return holding


# How old a valuation must be before an undated, unchanged quote renews its time.
UNDATED_QUOTE_REFRESH = datetime.timedelta(minutes=30)


def _instruments(holdings: QuerySet[PortfolioHolding]) -> list[Instrument]:
    rows = holdings.order_by().values_list("asset_type", "identifier", "currency").distinct()
    return sorted(Instrument(*row) for row in rows)


def holdings_refresh_prices(
    *, source: PriceSource | None = None, now: datetime.datetime | None = None, holding_ids=None
) -> dict:
    """Asks the price source (PORTFOLIO_PRICE_SOURCE unless given) for every
    distinct instrument held (or those of ``holding_ids``) and revalues each
    holding it quoted, one row lock and one transaction per holding, so a
    user's edit waits for one row, not for the whole run. A holding valued
    more recently than the quote keeps its valuation."""
    now = now or timezone.now()
    source = source or price_source_load()
    holdings = PortfolioHolding.objects.all()
    if holding_ids is not None:
        holdings = holdings.filter(id__in=list(holding_ids))
    instruments = _instruments(holdings)
    summary = {"source": source.name, "instruments": len(instruments), "quoted": 0}
    summary.update(updated=0, unchanged=0, skipped=0)
    for start in range(0, len(instruments), PRICE_BATCH):
        batch = instruments[start : start + PRICE_BATCH]
        quotes = source.prices(batch)
        for instrument in batch:
            quote = quotes.get(instrument)
            if quote is None:
                continue
            summary["quoted"] += 1
            ids = holdings.filter(**instrument._asdict()).values_list("id", flat=True)
            for holding_id in list(ids):
                outcome = _refresh_one(holding_id, instrument, quote=quote, source_name=source.name, now=now)
                summary[outcome] += 1
    return summary


def _refresh_one(holding_id, instrument: Instrument, *, quote, source_name: str, now: datetime.datetime) -> str:
    with transaction.atomic():
        # Locked by id and instrument: a holding edited to another asset since
        # the ids were read must not take this instrument's price.
        holding = PortfolioHolding.objects.select_for_update().filter(pk=holding_id, **instrument._asdict()).first()
        if holding is None:  # deleted or changed since the instruments were read
            return "skipped"
        with localcontext() as ctx:
            ctx.prec = 60
            # The column keeps 8 places; a source may quote more (sub-cent tokens).
            price = quote.price.quantize(Decimal(1).scaleb(-PRICE_SHAPE[1]), rounding=ROUND_HALF_UP)
        if (
            quote.as_of is None
            and holding.last_price == price
            and holding.price_source == source_name
            and holding.valued_at is not None
            and now - holding.valued_at < UNDATED_QUOTE_REFRESH
        ):
            # An undated quote repeating a recent valuation changes nothing, so
            # a retry or a run right after another is a no-op; the next hourly
            # run still moves valued_at on, keeping the holding fresh.
            return "unchanged"
        valued_at = quote.as_of or now
        if holding.valued_at is not None and valued_at < holding.valued_at:
            return "skipped"  # a newer valuation (say, one entered by hand) stands
        try:
            changed = _apply_valuation(holding, price=price, source=source_name, valued_at=valued_at, now=now)
        except ValidationError as exc:  # a quote that does not fit this holding (too large, from the future)
            logger.warning("portfolio refresh: holding %s not revalued: %s", holding_id, exc.detail)
            return "skipped"
    return "updated" if changed else "unchanged"
