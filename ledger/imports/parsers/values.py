"""Text decoding, amounts and dates: the cell-level rules shared by every format."""

import codecs
import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from .types import ImportFileError, RowProblem

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999.99")
MIN_DATE = datetime.date(1900, 1, 1)
MAX_DATE = datetime.date(2100, 12, 31)

_CHUNK = 1 << 20


def _decodes(content: bytes, encoding: str, start: int = 0) -> bool:
    # Validate in chunks so a 100 MB file is not copied into one str just to be checked.
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        for offset in range(start, len(content), _CHUNK):
            decoder.decode(content[offset : offset + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _looks_utf16(head: bytes) -> str:
    if len(head) < 8:
        return ""
    even = head[0::2].count(0) / len(head[0::2])
    odd = head[1::2].count(0) / len(head[1::2])
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return ""


def detect_encoding(content: bytes, declared: str = "", *, start: int = 0) -> str:
    """The codec to read the file with: the profile's, else by BOM (UTF-8,
    UTF-16 LE/BE), else UTF-16 by its NUL pattern, else UTF-8, else cp1252.
    start: where the text begins (content[start:] without copying it)."""
    if declared:
        try:
            name = codecs.lookup(declared).name
        except LookupError:
            raise ImportFileError("unknown_encoding", f"Unknown encoding {declared!r}.", "Use utf-8, utf-16 or cp1252.")
        if name == "utf-8" and content.startswith(codecs.BOM_UTF8, start):
            name = "utf-8-sig"
        if not _decodes(content, name, start):
            raise ImportFileError(
                "unknown_encoding",
                f"The file is not valid {declared} text.",
                "Leave the encoding empty to detect it, or pick the one your bank uses (often cp1252 or latin-1).",
            )
        return name
    if content.startswith(codecs.BOM_UTF8, start):
        candidates = ["utf-8-sig"]
    elif content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE), start):
        candidates = ["utf-16"]
    else:
        guess = _looks_utf16(content[start : start + 4096])
        candidates = [guess] if guess else ["utf-8", "cp1252"]
    for name in candidates:
        if _decodes(content, name, start):
            return name
    raise ImportFileError(
        "unknown_encoding",
        "The file's text encoding could not be recognised (not UTF-8, UTF-16 or Windows-1252).",
        "Save the export as CSV UTF-8, or set the profile's encoding (for example latin-1).",
    )


def decode(content: bytes, declared: str = "") -> str:
    return content.decode(detect_encoding(content, declared))


# Amounts ---------------------------------------------------------------------------------------------------------

_DROP_SPACES = str.maketrans("", "", " \u00a0\u202f\u2009\t")
_AMOUNT = re.compile(
    r"(?P<l1>[-+]?)(?P<c1>[A-Za-z]{3}|Rs\.?|US\$|[$€£₹¥])?(?P<l2>[-+]?)(?P<num>\d[\d.,']*)"
    r"(?P<t1>-?)(?P<c2>[A-Za-z]{3}|[$€£₹¥])?(?P<t2>-?)",
    re.ASCII,  # \d must not match Arabic-Indic or fullwidth digits (Decimal would accept them)
)
_CRDR = re.compile(r"(cr|dr)\.?$", re.IGNORECASE)
_FAST = {
    ".": re.compile(r"-?\d{1,10}(?:\.\d{1,2})?", re.ASCII),
    ",": re.compile(r"-?\d{1,10}(?:,\d{1,2})?", re.ASCII),
    # One separator followed by 1-2 decimals is never ambiguous.
    "": re.compile(r"-?\d{1,10}(?:[.,]\d{1,2})?", re.ASCII),
}
# Western 1,234,567 and Indian lakh 12,34,567 grouping.
_GROUPING = {
    sep: (
        re.compile(rf"\d{{1,3}}(?:{re.escape(sep)}\d{{3}})+", re.ASCII),
        re.compile(rf"\d{{1,2}}(?:{re.escape(sep)}\d{{2}})*{re.escape(sep)}\d{{3}}", re.ASCII),
    )
    for sep in (",", ".", "'")
}


class AmountParser:
    """Parse one amount cell into the bank's signed Decimal.

    Returns (value, direction) where direction is "out"/"in" when the cell
    itself says so (a DR/CR suffix), else None; None for an empty cell."""

    def __init__(self, decimal_separator: str = ".", thousands_separator: str = ""):
        self.decimal = decimal_separator
        self.thousands = thousands_separator
        self._fast = _FAST.get(decimal_separator)

    def __call__(self, raw: str) -> tuple[Decimal, str | None] | None:
        text = raw.strip()
        if not text:
            return None
        if self._fast is not None and self._fast.fullmatch(text):
            # The pattern allows at most 10 digits and 2 decimals: no range or precision check needed.
            if len(text) > 3 and text[-3] in ".,":
                return Decimal(text if text[-3] == "." else text.replace(",", ".")), None
            return Decimal(text.replace(",", ".")).quantize(CENT), None
        return self._slow(text, raw)

    def _slow(self, text: str, raw: str) -> tuple[Decimal, str | None] | None:
        text = text.translate(_DROP_SPACES)
        if not text.isascii() and any(ch.isdigit() and not "0" <= ch <= "9" for ch in text):
            raise RowProblem(f"Amount {raw!r} uses non-ASCII digits; only 0-9 are accepted.", "amount")
        direction = None
        marker = _CRDR.search(text)
        if marker and marker.start() > 0:
            direction = "in" if marker.group(1).lower() == "cr" else "out"
            text = text[: marker.start()]
        negative = False
        if text.startswith("(") and text.endswith(")"):
            negative, text = True, text[1:-1]
        match = _AMOUNT.fullmatch(text)
        if not match:
            if text in ("-", "--", "—"):
                return None
            raise RowProblem(f"Amount {raw!r} is not a number.", "amount")
        minus = sum(match.group(g) == "-" for g in ("l1", "l2", "t1", "t2"))
        if minus > 1 or (minus and negative):
            raise RowProblem(f"Amount {raw!r} has more than one minus sign.", "amount")
        value = self._number(match.group("num"), raw)
        if negative or minus:
            value = -value
        return self._check(value, raw), direction

    def _number(self, num: str, raw: str) -> Decimal:
        decimal = self.decimal
        if not decimal:
            has_dot, has_comma = "." in num, "," in num
            if has_dot and has_comma:
                decimal = "." if num.rfind(".") > num.rfind(",") else ","
            elif has_dot or has_comma:
                char = "." if has_dot else ","
                if num.count(char) > 1:
                    decimal = "," if char == "." else "."
                elif len(num) - num.rfind(char) - 1 == 3:
                    raise RowProblem(
                        f"Ambiguous amount {raw!r}: it could be thousands or decimals.",
                        "amount",
                    )
                else:
                    decimal = char
            else:
                decimal = "."
        if num.count(decimal) > 1:
            raise RowProblem(f"Amount {raw!r} is not a number.", "amount")
        whole, _, fraction = num.partition(decimal)
        if (decimal in num and not fraction) or not fraction.isdigit() and fraction:
            raise RowProblem(f"Amount {raw!r} is not a number.", "amount")
        if not whole.isdigit():
            separators = {char for char in whole if not char.isdigit()}
            sep = separators.pop() if len(separators) == 1 else ""
            allowed = (self.thousands,) if self.thousands else (",", ".", "'")
            if sep not in allowed or sep == decimal or sep not in _GROUPING:
                raise RowProblem(f"Amount {raw!r} is not a number in this file's format.", "amount")
            western, lakh = _GROUPING[sep]
            if not (western.fullmatch(whole) or lakh.fullmatch(whole)):
                raise RowProblem(f"Amount {raw!r} has misplaced thousands separators.", "amount")
            whole = whole.replace(sep, "")
        try:
            return Decimal(f"{whole}.{fraction or '0'}")
        except InvalidOperation:
            raise RowProblem(f"Amount {raw!r} is not a number.", "amount")

    @staticmethod
    def _check(value: Decimal, raw: str) -> Decimal:
        rounded = value.quantize(CENT)
        if rounded != value:
            raise RowProblem(f"Amount {raw!r} has more than two decimal places.", "amount")
        if abs(rounded) > MAX_AMOUNT:
            raise RowProblem(f"Amount {raw!r} is too large.", "amount")
        return rounded


def to_cents(value: Decimal, raw: str = "") -> Decimal:
    rounded = value.quantize(CENT)
    if rounded == value and abs(rounded) <= MAX_AMOUNT:
        return rounded  # the common case, without formatting the value for a message it does not need
    return AmountParser._check(value, raw or str(value))


# Dates -----------------------------------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ].*)?", re.ASCII)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:\d{4,6})?", re.ASCII)
_NUMERIC = re.compile(r"(\d{1,2})([-/.])\s?(\d{1,2})\2\s?(\d{4}|\d{2})(?:[ T,].*)?", re.ASCII)
_TEXT_DMY = re.compile(r"([0-9]{1,2})[ \-/.]?([^\W\d_]{3,9})\.?[ \-/.,]*([0-9]{4}|[0-9]{2})(?:[ T].*)?")
_TEXT_MDY = re.compile(r"(?:[^\W\d_]+,? )?([^\W\d_]{3,9})\.? ([0-9]{1,2})(?:st|nd|rd|th)?,? ([0-9]{4})(?:[ T].*)?")
_MONTHS = {
    "jan": 1, "feb": 2, "fev": 2, "mar": 3, "mae": 3, "mrt": 3, "apr": 4, "avr": 4, "abr": 4, "may": 5, "mai": 5,
    "mei": 5, "jun": 6, "juin": 6, "jul": 7, "juil": 7, "aug": 8, "aou": 8, "ago": 8, "sep": 9, "set": 9, "oct": 10,
    "okt": 10, "out": 10, "nov": 11, "dec": 12, "dez": 12, "dic": 12, "ene": 1,
}  # fmt: skip
_DATE_LIKE = re.compile(
    r"[0-9]{1,4}[-/.]\s?[0-9]{1,2}[-/.]\s?[0-9]{2,4}|[0-9]{8}|[0-9]{1,2}[ \-/.]?[^\W\d_]{3,9}|[^\W\d_]{3,9}\.? [0-9]"
)


def looks_like_date(text: str) -> bool:
    return bool(_DATE_LIKE.match(text.strip()))


def _month(name: str) -> int:
    key = unicodedata.normalize("NFKD", name.lower().replace("ä", "ae"))
    key = "".join(char for char in key if not unicodedata.combining(char))
    return _MONTHS.get(key[:4]) or _MONTHS.get(key[:3]) or 0


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 69 else 1900
    return year


def numeric_parts(value: str) -> tuple[int, int, str] | None:
    """(first, second, separator) of a dd/mm or mm/dd date, else None."""
    match = _NUMERIC.fullmatch(value.strip())
    return (int(match.group(1)), int(match.group(3)), match.group(2)) if match else None


class DateParser:
    """One file's date rule: an explicit strftime format, else ISO, compact
    YYYYMMDD, month names and numeric dates in the file's day/month order.
    Results are cached per distinct string (a year of rows has ~365)."""

    def __init__(self, date_format: str = "", day_first: bool | None = None):
        self.date_format = date_format
        self.day_first = day_first
        self._cache: dict[str, datetime.date | str] = {}

    def __call__(self, raw: str) -> datetime.date:
        found = self._cache.get(raw)
        if found is None:
            try:
                found = self._parse(raw.strip())
                if not MIN_DATE <= found <= MAX_DATE:
                    found = f"Date {raw!r} is outside 1900-01-01..2100-12-31."
            except RowProblem as exc:
                found = str(exc)
            except ValueError:
                found = f"Date {raw!r} does not exist."
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[raw] = found
        if isinstance(found, str):
            raise RowProblem(found, "date")
        return found

    def _parse(self, text: str) -> datetime.date:
        if not text:
            raise RowProblem("Date is empty.", "date")
        if self.date_format:
            try:
                return datetime.datetime.strptime(text, self.date_format).date()
            except ValueError:
                raise RowProblem(f"Date {text!r} does not match the format {self.date_format}.", "date")
        if match := _ISO.fullmatch(text):
            return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if match := _NUMERIC.fullmatch(text):
            first, second, year = int(match.group(1)), int(match.group(3)), _year(match.group(4))
            if self.day_first is None:
                if first <= 12 and second <= 12 and first != second:
                    raise RowProblem(f"Date {text!r} could be day-first or month-first.", "date")
                day_first = first > 12
            else:
                day_first = self.day_first
            return datetime.date(year, second, first) if day_first else datetime.date(year, first, second)
        if match := _COMPACT.fullmatch(text):
            return datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if (match := _TEXT_DMY.fullmatch(text)) and (month := _month(match.group(2))):
            return datetime.date(_year(match.group(3)), month, int(match.group(1)))
        if (match := _TEXT_MDY.fullmatch(text)) and (month := _month(match.group(1))):
            return datetime.date(int(match.group(3)), month, int(match.group(2)))
        raise RowProblem(f"Date {text!r} is not a recognised date.", "date")
