"""QIF with a small parser of our own rather than quiffen: quiffen 4 fails
the whole file on one bad date (it raises from dateutil), while an import
must report that transaction as a row error and keep the rest; it also
needs a path or a full string and builds pydantic objects per line.

Fields: D date (M/D'YY, M/D/YY, M/D/YYYY, D/M/YYYY by file-wide detection,
ISO), T or U amount (negative = money out), P payee, M memo, L category
(kept verbatim as bank_category), N check number -> external_id. Split
lines (S/E/$) belong to the transaction's total T and are not rows."""

import datetime

from .entries import EntriesParse, Entry
from .types import ImportFileError, Profile, RowProblem, Statement
from .values import AmountParser, DateParser, decode, numeric_parts

CASH_TYPES = {"bank", "cash", "ccard", "oth a", "oth l", "invoice"}
_AMOUNTS = AmountParser("", "")


def _records(text: str):
    section = ""
    record: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("!"):
            tag = line[1:].lower()
            if tag.startswith("type:"):
                section = tag[5:].strip()
            elif tag.startswith("account"):
                section = "account"
            elif tag.startswith("option") or tag.startswith("clear"):
                continue
            record = []
            continue
        if line == "^":
            if record and section in CASH_TYPES:
                yield record
            record = []
            continue
        record.append(line)
    if record and section in CASH_TYPES:
        yield record


def _normal_date(text: str) -> tuple[str, bool]:
    # Quicken writes 3/ 5'24 for 2024 and 3/5/99 for 1999.
    apostrophe = "'" in text
    return text.replace(" ", "").replace("'", "/"), apostrophe


def parse_qif(content: bytes, profile: Profile | None) -> EntriesParse:
    text = decode(content, profile.encoding if profile else "")
    if not text.lstrip().startswith("!"):
        raise ImportFileError("unknown_format", "The QIF file has no !Type header.")
    records = list(_records(text))
    day_first = None
    if not (profile and profile.date_format):
        dated = [_normal_date(field[1:])[0] for record in records for field in record if field[0] == "D"]
        parts = [part for part in map(numeric_parts, dated) if part]
        # Quicken writes month first; a file is day-first only when a date proves it.
        day_first = any(first > 12 >= second for first, second, _ in parts) and not any(
            second > 12 >= first for first, second, _ in parts
        )
    dates = DateParser(profile.date_format if profile and profile.date_format else "", day_first)
    statement = Statement(currency=profile.currency if profile else "")
    return EntriesParse("qif", profile, _entries(records, dates), statement)


def _entries(records, dates: DateParser):
    for number, record in enumerate(records, start=1):
        fields: dict[str, str] = {}
        for line in record:
            code, value = line[0], line[1:].strip()
            if code in "SE$":
                continue
            fields.setdefault(code, value)
        raw = {code: value for code, value in fields.items()}
        try:
            date_text, apostrophe = _normal_date(fields.get("D", ""))
            date = dates(date_text)
            if apostrophe and date.year < 2000 and len(date_text.rsplit("/", 1)[-1]) == 2:
                date = date.replace(year=date.year + 100)
            parsed = _AMOUNTS(fields.get("T") or fields.get("U") or "")
            if parsed is None:
                raise RowProblem("Amount (T) is missing.", "T")
        except RowProblem as exc:
            exc.column = exc.column.replace("date", "D").replace("amount", "T") or exc.column
            yield Entry(number, raw, problem=exc)
            continue
        except ValueError:
            yield Entry(number, raw, problem=RowProblem("Date does not exist.", "D"))
            continue
        yield Entry(
            number,
            raw,
            date=date if isinstance(date, datetime.date) else None,
            bank_amount=parsed[0],
            payee=fields.get("P", ""),
            description=fields.get("P", ""),
            notes=fields.get("M", ""),
            bank_category=fields.get("L", ""),
            external_id=fields.get("N", "") if fields.get("N", "").isdigit() else "",
        )
