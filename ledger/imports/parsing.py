"""CSV parsing for transaction imports: pure functions, no database.

Columns (header names are case-insensitive): date, amount, merchant (or
description / payee), and optionally category, currency, notes (or memo),
external_id. Row numbers are spreadsheet line numbers: the header is row 1,
the first transaction row 2."""

import csv
import datetime
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from config.exceptions import DomainError
from config.fields import DATE_RANGE_MESSAGE, date_in_range
from ledger.errors import LedgerErrorCode
from ledger.imports.parsers.records import CsvRecords
from ledger.models.transactions import NOTES_MAX_LENGTH
from merchants.categories import CATEGORY_NAMES

COLUMN_ALIASES = {
    "date": "date",
    "transaction date": "date",
    "amount": "amount",
    "merchant": "merchant",
    "description": "merchant",
    "payee": "merchant",
    "category": "category",
    "currency": "currency",
    "notes": "notes",
    "memo": "notes",
    "external_id": "external_id",
    "external id": "external_id",
    "tags": "tags",
}
REQUIRED = ("date", "amount", "merchant")
MAX_AMOUNT = Decimal("9999999999.99")
_CATEGORIES = {name.lower(): name for name in CATEGORY_NAMES}
_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$", re.ASCII)
_DAY_FIRST_DOTS = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$", re.ASCII)
_SLASHED = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$", re.ASCII)
_TEXT_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%b %d, %Y", "%B %d, %Y", "%d-%b-%Y")
_CURRENCY_NOISE = re.compile(r"[\s$€£¥\u00a0]|^[A-Z]{3}|[A-Z]{3}$")
# A leading apostrophe our export adds to defuse spreadsheet formulas.
_CURRENCY = re.compile(r"[A-Z]{3}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Fast paths for the common shapes (plain "-12.50", ISO dates); anything else takes the general parser.
_PLAIN_AMOUNT = re.compile(r"-?\d{1,10}(?:\.\d{1,2})?", re.ASCII)
_ZERO = Decimal(0)
_fromisoformat = datetime.date.fromisoformat


class ParsedRow(NamedTuple):
    number: int
    date: datetime.date
    amount: Decimal
    merchant: str
    category: str | None
    currency: str
    notes: str
    external_id: str
    tags: tuple = ()


@dataclass
class ParsedFile:
    rows: list[ParsedRow]
    errors: list[tuple[int, str]]


class RowError(ValueError):
    pass


def decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DomainError(
            "The file is not UTF-8 text. Save it as CSV UTF-8 and upload again.", code=LedgerErrorCode.ENCODING
        )


def count_lines(text: str) -> int:
    breaks = text.count("\n") or text.count("\r")  # classic-Mac files end lines with CR alone
    return max(breaks - 1, 0) + (0 if text.endswith(("\n", "\r")) else 1)


def _header_cells(text: str) -> list[str] | None:
    # newline="": csv itself finds the line ends, CR-only ones included.
    try:
        return next(csv.reader(io.StringIO(text, newline="")), None)
    except csv.Error as exc:
        raise DomainError(f"The header cannot be read: {exc}.", code=LedgerErrorCode.BAD_HEADER)


def _header(text: str) -> dict[str, int]:
    first = _header_cells(text)
    if not first or not any(cell.strip() for cell in first):
        raise DomainError("The file is empty.", code=LedgerErrorCode.EMPTY)
    columns: dict[str, int] = {}
    for index, name in enumerate(first):
        key = COLUMN_ALIASES.get(name.strip().lower())
        if key and key not in columns:
            columns[key] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise DomainError(
            f"The header must have date, amount and merchant (or description) columns; missing: {', '.join(missing)}.",
            code=LedgerErrorCode.BAD_HEADER,
        )
    return columns


def check_header(text: str) -> None:
    _header(text)


def parse_amount(raw: str) -> Decimal:
    if _PLAIN_AMOUNT.fullmatch(raw):
        value = Decimal(raw)
        if value == _ZERO:
            raise RowError("Amount must not be zero.")
        return value
    text = raw.strip()
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    text = _CURRENCY_NOISE.sub("", text.strip())
    if text.endswith("-"):
        negative, text = not negative, text[:-1]
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    if "," in text and "." in text:
        # The later separator is the decimal one: 1,234.56 or 1.234,56.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        if text.count(",") == 1 and len(tail) in (1, 2):
            text = f"{head}.{tail}"  # decimal comma: 12,5 / 12,50
        elif len(tail) == 3 and all(len(part) == 3 for part in text.split(",")[1:]) and text.count(",") > 1:
            text = text.replace(",", "")  # 1,234,567
        else:
            raise RowError(f"Ambiguous amount {raw!r}: use a decimal point (1234.00) or a decimal comma (1234,00).")
    if not re.fullmatch(r"\d+(\.\d+)?", text, re.ASCII):
        raise RowError(f"Amount {raw!r} is not a number.")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise RowError(f"Amount {raw!r} is not a number.")
    if value != value.quantize(Decimal("0.01")):
        raise RowError(f"Amount {raw!r} has more than two decimal places.")
    if value == 0:
        raise RowError("Amount must not be zero.")
    if value > MAX_AMOUNT:
        raise RowError(f"Amount {raw!r} is too large.")
    return -value if negative else value


def _day_first(texts: list[str]) -> bool:
    """For d/m/y vs m/d/y files: day first if any slashed date has a first
    part above 12, month first (US statements) otherwise."""
    for text in texts:
        match = _SLASHED.match(text.strip())
        if match and int(match.group(1)) > 12:
            return True
    return False


def parse_date(raw: str, *, day_first: bool) -> datetime.date:
    parsed = _parse_date(raw, day_first=day_first)
    if not date_in_range(parsed):
        raise RowError(f"Date {raw!r} is out of range. {DATE_RANGE_MESSAGE}")
    return parsed


def _parse_date(raw: str, *, day_first: bool) -> datetime.date:
    if not raw.isascii():
        raise RowError(f"Date {raw!r} is not a recognised date (use YYYY-MM-DD).")
    if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
        try:
            return _fromisoformat(raw)
        except ValueError:
            pass  # the general path below names the problem
    text = raw.strip()
    try:
        if match := _ISO.match(text):
            year, month, day = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
        if match := _DAY_FIRST_DOTS.match(text):
            day, month, year = (int(g) for g in match.groups())
            return datetime.date(year, month, day)
        if match := _SLASHED.match(text):
            first, second, year = (int(g) for g in match.groups())
            day, month = (first, second) if day_first else (second, first)
            return datetime.date(year, month, day)
    except ValueError:
        raise RowError(f"Date {raw!r} does not exist.")
    for fmt in _TEXT_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise RowError(f"Date {raw!r} is not a recognised date (use YYYY-MM-DD).")


def _unescape(value: str) -> str:
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _tags(cell: str) -> tuple:
    """A `tags` cell: names separated by ';' (as the export writes them)."""
    cell = cell.strip()
    if cell[:1] == "'":
        cell = _unescape(cell)
    names = tuple(dict.fromkeys(" ".join(part.split()) for part in cell.split(";") if part.strip()))
    if len(names) > 20 or any(len(name) > 64 for name in names):
        raise RowError("At most 20 tags of at most 64 characters each.")
    return names


def parse_csv(content: bytes | str, *, max_rows: int = 1_000_000) -> ParsedFile:
    text = decode(content)
    columns = _header(text)
    header_size = len(_header_cells(text))
    # The tabular parser's records: CR-only line ends, a cell over csv's field limit and an
    # unbalanced quote (which would swallow the rows after it) each become one row's error.
    records = CsvRecords(content if isinstance(content, bytes) else content.encode(), "utf-8-sig", ",")
    records.expected = header_size
    raw_rows, errors = [], []
    for number, problem, line in records:
        if number == 1:
            continue  # the header
        if problem is not None:
            errors.append((number, str(problem)))
            continue
        if not any(cell.strip() for cell in line):
            continue
        raw_rows.append((number, line))
        if len(raw_rows) > max_rows:
            raise DomainError(f"The file has more than {max_rows} rows.", code=LedgerErrorCode.TOO_MANY_ROWS)
    if not raw_rows and not errors:
        raise DomainError("The file has a header but no transactions.", code=LedgerErrorCode.EMPTY)

    date_index = columns["date"]
    day_first = _day_first([line[date_index] for _, line in raw_rows if len(line) > date_index])
    rows = []
    append = rows.append
    min_len = max(columns[name] for name in REQUIRED) + 1
    i_date, i_amount, i_merchant = columns["date"], columns["amount"], columns["merchant"]
    optional = [columns.get(name) for name in ("category", "currency", "notes", "external_id")]
    i_tags = columns.get("tags")

    for number, line in raw_rows:
        try:
            size = len(line)
            if size < min_len:
                raise RowError("The row has fewer columns than the header.")
            if size > header_size and any(cell.strip() for cell in line[header_size:]):
                # 2026-11-04,1,234,Tesco under date,amount,merchant: never merchant "234", amount 1.
                raise RowError(
                    f"The row has {size} cells but the header has {header_size} "
                    "(an unquoted comma in an amount or a text?)."
                )
            if "\x00" in "".join(line):
                raise RowError("The row contains a NUL byte (binary data in a text file).")
            i_category, i_currency, i_notes, i_external = (
                index if index is not None and index < size else None for index in optional
            )
            merchant = line[i_merchant].strip()
            if merchant[:1] == "'":
                merchant = _unescape(merchant)
            if not merchant:
                raise RowError("Merchant is empty.")
            if len(merchant) > 255:
                raise RowError("Merchant is longer than 255 characters.")
            category = line[i_category].strip() if i_category is not None else ""
            if category:
                if category.lower() not in _CATEGORIES:
                    raise RowError(f"Unknown category {category!r}.")
                category = _CATEGORIES[category.lower()]
            currency = line[i_currency].strip().upper() if i_currency is not None else ""
            if currency and not _CURRENCY.fullmatch(currency):
                raise RowError(f"Currency {currency!r} is not a 3-letter ISO code.")
            external_id = line[i_external].strip() if i_external is not None else ""
            if external_id[:1] == "'":
                external_id = _unescape(external_id)
            if len(external_id) > 128:
                raise RowError("external_id is longer than 128 characters.")
            notes = line[i_notes].strip() if i_notes is not None else ""
            tags = _tags(line[i_tags]) if i_tags is not None and i_tags < size and line[i_tags].strip() else ()
            append(
                ParsedRow(
                    number,
                    parse_date(line[i_date].strip(), day_first=day_first),
                    parse_amount(line[i_amount].strip()),
                    merchant,
                    category or None,
                    currency,
                    (_unescape(notes) if notes[:1] == "'" else notes)[:NOTES_MAX_LENGTH],
                    external_id,
                    tags,
                )
            )
        except RowError as exc:
            errors.append((number, str(exc)))
    return ParsedFile(rows=rows, errors=errors)
