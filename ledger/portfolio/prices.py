"""Price sources for portfolio valuations: the plug-in point.

A source is a class with a ``name`` (stored on each holding it prices as
``price_source``, at most 32 characters) and a ``prices(instruments)`` method
that takes distinct ``Instrument``s (asset type, normalised identifier,
currency) and returns ``{instrument: Quote}`` for those it can price; an
instrument it leaves out is left alone. ``settings.PORTFOLIO_PRICE_SOURCE`` is
the dotted path of the class; it is built with no arguments once per refresh
(``ledger.refresh_portfolio_valuations``). A quote's price is per unit, in the
instrument's currency, as a Decimal (or a string), never a float; ``as_of`` is
when the market quoted it (aware), so a re-run with the same quote changes
nothing. A source that cannot reach its provider should raise
``ConnectionError`` or ``TimeoutError``: the task retries those with backoff.

Built in: ``ManualPriceSource`` (the default: quotes nothing, so prices come
from ``POST portfolio/holdings/{id}/valuation`` only and the hourly task is a
no-op) and ``StaticPriceSource`` (fixed prices from settings, for tests and
demos). Neither touches the network."""

import datetime
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string


class Instrument(NamedTuple):
    asset_type: str
    identifier: str
    currency: str


@dataclass(frozen=True)
class Quote:
    price: Decimal
    as_of: datetime.datetime | None = None  # None: the time of the refresh

    def __post_init__(self):
        price = self.price
        if isinstance(price, float | bool):
            # A float has already lost the cents; the source must keep the text or a Decimal.
            raise TypeError(f"A quote's price must be a Decimal or a string, not {type(price).__name__}.")
        if not isinstance(price, Decimal):
            try:
                price = Decimal(str(price).strip())
            except InvalidOperation:
                raise ValueError(f"Not a price: {self.price!r}")
            object.__setattr__(self, "price", price)
        if not price.is_finite() or price < 0:
            raise ValueError(f"Not a price: {self.price!r}")
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValueError("A quote's as_of must be timezone-aware.")


class PriceSource:
    """Subclass this and point PORTFOLIO_PRICE_SOURCE at the subclass."""

    name = "source"

    def prices(self, instruments: Sequence[Instrument]) -> Mapping[Instrument, Quote]:
        raise NotImplementedError


class ManualPriceSource(PriceSource):
    """Prices only ever come from the valuation endpoint."""

    name = "manual"

    def prices(self, instruments):
        return {}


class StaticPriceSource(PriceSource):
    """Fixed prices from ``settings.PORTFOLIO_STATIC_PRICES``, keyed
    ``"<asset_type>:<IDENTIFIER>"`` or, when one asset trades in several
    currencies, ``"<asset_type>:<IDENTIFIER>:<CUR>"`` (tried first). A value is
    the price as a string, or ``{"price": "190.12", "as_of": "2026-03-15T21:00:00Z"}``."""

    name = "static"

    def __init__(self, table: Mapping | None = None):
        self.table = settings.PORTFOLIO_STATIC_PRICES if table is None else table

    def prices(self, instruments):
        found = {}
        for instrument in instruments:
            key = f"{instrument.asset_type}:{instrument.identifier}"
            entry = self.table.get(f"{key}:{instrument.currency}", self.table.get(key))
            if entry is None:
                continue
            if isinstance(entry, Mapping):
                as_of = parse_datetime(entry["as_of"]) if entry.get("as_of") else None
                found[instrument] = Quote(price=entry["price"], as_of=as_of)
            else:
                found[instrument] = Quote(price=entry)
        return found


def price_source_load(path: str | None = None) -> PriceSource:
    path = path or settings.PORTFOLIO_PRICE_SOURCE
    try:
        source = import_string(path)()
    except ImportError as exc:
        raise ImproperlyConfigured(f"PORTFOLIO_PRICE_SOURCE {path!r} cannot be imported: {exc}")
    if not callable(getattr(source, "prices", None)):
        raise ImproperlyConfigured(f"PORTFOLIO_PRICE_SOURCE {path!r} has no prices() method.")
    return source
