"""Portfolio money: Decimal throughout, the columns' shapes checked for
callers that bypass the API serializers (admin, tasks, shell), valuations
rounded to the cent ROUND_HALF_UP (the rounding every Tally amount uses)."""

from decimal import ROUND_HALF_UP, Decimal, localcontext

from ledger.errors import LedgerErrorCode
from ledger.portfolio.identifiers import invalid

CENT = Decimal("0.01")
# (max_digits, decimal_places) of the columns.
UNITS_SHAPE = (20, 8)
MONEY_SHAPE = (12, 2)
PRICE_SHAPE = (20, 8)


def check_decimal(field: str, value, shape: tuple[int, int]) -> Decimal:
    """The column's shape and sign, for callers that bypass the API serializers (admin, tasks, shell)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise invalid(field, "A decimal number is required.")
    max_digits, places = shape
    if value < 0:
        raise invalid(field, "Must be zero or more.", code=LedgerErrorCode.MIN_VALUE)
    if value == 0:
        value = abs(value)  # "-0" is zero: never store or echo a negative zero
    if -value.as_tuple().exponent > places:
        raise invalid(field, f"At most {places} decimal places.", code=LedgerErrorCode.MAX_DECIMAL_PLACES)
    if value >= Decimal(10) ** (max_digits - places):
        raise invalid(
            field, f"At most {max_digits - places} digits before the decimal point.", code=LedgerErrorCode.MAX_DIGITS
        )
    return value


def valuation_of(*, units: Decimal, price: Decimal, field: str = "price") -> Decimal:
    """units x price to the cent, ROUND_HALF_UP; a 400 on ``field`` if it does not fit Decimal(12,2)."""
    with localcontext() as ctx:
        ctx.prec = 60  # 20 + 20 digits: exact before the one rounding below
        value = (units * price).quantize(CENT, rounding=ROUND_HALF_UP)
    if value >= Decimal(10) ** (MONEY_SHAPE[0] - MONEY_SHAPE[1]):
        raise invalid(field, "The valuation (units x price) is above 9,999,999,999.99.", code=LedgerErrorCode.MAX_VALUE)
    return value


def gain_percent(gain: Decimal, cost: Decimal) -> Decimal | None:
    """gain / cost in percent to 2 places, ROUND_HALF_UP; None when the cost is zero."""
    if not cost:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        percent = (gain * 100 / cost).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(percent) if percent == 0 else percent  # never "-0.00"


def money_str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def fixed8_str(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.8f}"
