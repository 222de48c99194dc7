"""Portfolio holdings: every write. Identifiers are normalised
(ledger/portfolio/identifiers.py) before they are stored or compared; a
duplicate is a 409 carrying existing_id. ``last_valuation`` is units x
``last_price`` to the cent (ledger/portfolio/money.py); a change of units
re-applies the last price, a change of type, identifier or currency clears
the valuation (the price was for something else). ``portfolio_update`` goes
out when a valuation changes a holding. Reads are in selectors.py (and
re-exported here for callers that import them from services)."""

import datetime
import logging
from decimal import ROUND_HALF_UP, Decimal, localcontext

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.errors import Conflict, Invalid
from config.selectors import get_or_not_found
from ledger.errors import LedgerErrorCode
from ledger.models import PortfolioHolding
from ledger.portfolio.identifiers import (  # noqa: F401  (re-exported)
    AssetType,
    check_cash_currency,
    currency_normalize,
    cusip_is_valid,
    default_currency,
    identifier_equivalents,
    identifier_normalize,
    invalid,
    isin_is_valid,
)
from ledger.portfolio.money import (  # noqa: F401  (re-exported)
    CENT,
    MONEY_SHAPE,
    PRICE_SHAPE,
    UNITS_SHAPE,
    check_decimal,
    gain_percent,
    valuation_of,
)
from ledger.portfolio.prices import Instrument, PriceSource, price_source_load
from ledger.portfolio.selectors import (  # noqa: F401  (re-exported)
    STALE_AFTER,
    holding_find_duplicate,
    holding_get,
    holding_is_stale,
    holding_list,
    holding_output,
    iso_utc,
    portfolio_summary,
    stale_q,
)
from realtime.services import notify_portfolio_update

logger = logging.getLogger(__name__)

# A client's or a source's clock may run a little ahead of ours.
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
# Instruments asked of the price source per call.
PRICE_BATCH = 500
NAME_MAX = PortfolioHolding._meta.get_field("name").max_length
SOURCE_MAX = PortfolioHolding._meta.get_field("price_source").max_length


def _duplicate(*, user, asset_type: str, identifier: str, exclude_id=None) -> Conflict | None:
    existing = holding_find_duplicate(user=user, asset_type=asset_type, identifier=identifier, exclude_id=exclude_id)
    if existing is None:
        return None
    return Conflict(
        f"You already hold {identifier} ({asset_type}); update that holding instead.",
        code=LedgerErrorCode.DUPLICATE,
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
        else default_currency(user=user, asset_type=asset_type, identifier=identifier)
    )
    check_cash_currency(asset_type=asset_type, identifier=identifier, currency=currency)
    holding = PortfolioHolding(
        user=user,
        asset_type=asset_type,
        identifier=identifier,
        name=" ".join((name or "").split())[:NAME_MAX],
        currency=currency,
        units=check_decimal("units", units, UNITS_SHAPE),
        cost_basis=check_decimal("cost_basis", cost_basis, MONEY_SHAPE),
    )
    if conflict := _duplicate(user=user, asset_type=asset_type, identifier=identifier):
        raise conflict
    _save_unique(holding, force_insert=True)
    return holding


def _lock(holding: PortfolioHolding) -> PortfolioHolding:
    # Deleted since the request read it: 404.
    return get_or_not_found(PortfolioHolding.objects.select_for_update(), "Holding not found.", pk=holding.pk)


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
    check_cash_currency(asset_type=holding.asset_type, identifier=holding.identifier, currency=holding.currency)
    if "name" in changes:
        holding.name = " ".join((changes["name"] or "").split())[:NAME_MAX]
    if "units" in changes:
        holding.units = check_decimal("units", changes["units"], UNITS_SHAPE)
    if "cost_basis" in changes:
        holding.cost_basis = check_decimal("cost_basis", changes["cost_basis"], MONEY_SHAPE)
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
    price = check_decimal("price", price, PRICE_SHAPE)
    if timezone.is_naive(valued_at):
        raise invalid("valued_at", "A time zone is required.")
    if valued_at > now + FUTURE_TOLERANCE:
        raise invalid("valued_at", "Cannot be in the future.")
    # A clock a little ahead counts as now: a stored future time would make
    # every later "now" valuation look older than it (409) until it passed.
    valued_at = min(valued_at, now)
    if holding.valued_at is not None and valued_at < holding.valued_at:
        raise Conflict(
            "The holding has a newer valuation; a price older than that would replace it.",
            code=LedgerErrorCode.OLDER_VALUATION,
            valued_at=iso_utc(holding.valued_at),
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
        except Invalid as exc:  # a quote that does not fit this holding (too large, from the future)
            logger.warning("portfolio refresh: holding %s not revalued: %s", holding_id, exc)
            return "skipped"
    return "updated" if changed else "unchanged"
