"""Portfolio identifiers: one stored form per asset, so "aapl" and "AAPL" are
the same holding (unique per user, type and identifier).

- stock, etf: a ticker, upper-cased: letters and digits, parts joined by "."
  or "-" (BRK.B, RDS-A) with an optional exchange suffix (VWRL.L), at most 12.
- crypto: a symbol, upper-cased, letters and digits, at most 20.
- bond: an ISIN (12 characters) or a CUSIP (9), upper-cased, spaces and
  hyphens dropped, check digit verified; a US or Canadian ISIN and its CUSIP
  name the same bond.
- cash: an ISO 4217 code, three letters, upper-cased. A cash holding's
  currency defaults to that code.
- other: free text, trimmed, inner whitespace collapsed to one space."""

import re

from config.errors import Invalid
from ledger.errors import LedgerErrorCode
from ledger.models import PortfolioHolding

AssetType = PortfolioHolding.AssetType

TICKER_RE = re.compile(r"[A-Z0-9]+(?:[.\-][A-Z0-9]+)*")
TICKER_MAX = 12
CRYPTO_RE = re.compile(r"[A-Z0-9]{1,20}")
CURRENCY_RE = re.compile(r"[A-Z]{3}")
ISIN_RE = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")
CUSIP_RE = re.compile(r"[A-Z0-9*@#]{8}[0-9]")
IDENTIFIER_MAX = PortfolioHolding._meta.get_field("identifier").max_length


def invalid(field: str, message: str, code: str = LedgerErrorCode.INVALID) -> Invalid:
    return Invalid(message, code=code, attr=field)


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
            raise invalid(
                "identifier",
                "A ticker is letters and digits, parts joined by '.' or '-' (BRK.B, VWRL.L), at most 12 characters.",
            )
    elif asset_type == AssetType.CRYPTO:
        value = raw.strip().upper()
        if not CRYPTO_RE.fullmatch(value):
            raise invalid("identifier", "A crypto symbol is letters and digits (BTC, ETH), at most 20 characters.")
    elif asset_type == AssetType.BOND:
        value = re.sub(r"[\s-]", "", raw).upper()
        if not (len(value) == 12 and isin_is_valid(value)) and not (len(value) == 9 and cusip_is_valid(value)):
            raise invalid(
                "identifier", "A bond is identified by its ISIN (12 characters) or CUSIP (9) with a valid check digit."
            )
    elif asset_type == AssetType.CASH:
        value = raw.strip().upper()
        if not CURRENCY_RE.fullmatch(value):
            raise invalid("identifier", "Cash is identified by its ISO 4217 currency code (USD, EUR).")
    elif asset_type == AssetType.OTHER:
        value = " ".join(raw.split())
        if not value:
            raise invalid("identifier", "This field may not be blank.", code=LedgerErrorCode.BLANK)
    else:
        raise invalid("asset_type", f"{asset_type!r} is not a valid choice.", code=LedgerErrorCode.INVALID_CHOICE)
    if len(value) > IDENTIFIER_MAX:
        raise invalid("identifier", f"At most {IDENTIFIER_MAX} characters.", code=LedgerErrorCode.MAX_LENGTH)
    return value


def currency_normalize(value: str) -> str:
    code = (value or "").strip().upper()
    if not CURRENCY_RE.fullmatch(code):
        raise invalid("currency", "An ISO 4217 currency code: three letters (USD, EUR).")
    return code


def default_currency(*, user, asset_type: str, identifier: str) -> str:
    if asset_type == AssetType.CASH:
        return identifier
    prefs = getattr(user, "preferences", None) or {}
    preferred = str(prefs.get("currency") or "").strip().upper()
    return preferred if CURRENCY_RE.fullmatch(preferred) else "USD"


def check_cash_currency(*, asset_type: str, identifier: str, currency: str) -> None:
    if asset_type == AssetType.CASH and currency != identifier:
        raise invalid("currency", f"A cash holding is in its own currency ({identifier}).")
