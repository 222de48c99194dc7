"""Shared plumbing for the statement formats (OFX, QIF, CAMT.053, MT940):
each yields entries in the bank's sign (negative = money out), and this
turns them into ParsedRow / RowError with the same rules as CSV."""

import datetime
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_EVEN, Decimal

from .categories import IGNORE, CategoryMapper
from .checks import RunningBalance, statement_warning
from .types import ImportFileError, ParsedRow, Profile, RowError, RowProblem, Statement
from .values import CENT, MAX_DATE, MIN_DATE, AmountParser, to_cents


class Entry:
    __slots__ = ("number", "date", "bank_amount", "payee", "description", "notes", "bank_category", "currency",
                 "external_id", "balance", "raw", "problem", "skip")  # fmt: skip

    # Named parameters rather than **values: one call per entry of a million-entry file.
    def __init__(self, number: int, raw: dict[str, str], *, date=None, bank_amount=None, payee="", description="",
                 notes="", bank_category="", currency="", external_id="", balance=None, problem=None,
                 skip=False):  # fmt: skip
        self.number = number
        self.raw = raw
        self.date = date
        self.bank_amount = bank_amount
        self.payee = payee
        self.description = description
        self.notes = notes
        self.bank_category = bank_category
        self.currency = currency
        self.external_id = external_id
        self.balance = balance
        self.problem = problem
        self.skip = skip


_AMOUNTS = AmountParser("", "")


_PLAIN = re.compile(r"([-+]?)(\d*)(?:[.,](\d*))?", re.ASCII)


def bank_amount(text: str | None, column: str) -> Decimal:
    """A statement format's amount text: OFX's TRNAMT, CAMT's Amt. Their syntax has no
    grouping, one decimal point (or comma), and as many decimals as the bank likes:
    -30.000, 8.85000, -.50 and +115.8331 are all real downloads."""
    value = (text or "").strip().replace(" ", "")
    match = _PLAIN.fullmatch(value)
    if match and (match.group(2) or match.group(3)):
        # Exact: a fraction of a cent (a money-market fund's cash line) is rounded, and said, by EntriesParse.
        return Decimal(f"{match.group(1)}{match.group(2) or '0'}.{match.group(3) or '0'}")
    try:
        parsed = _AMOUNTS(value)
    except RowProblem as exc:
        exc.column = column
        raise
    if parsed is None:
        raise RowProblem("Amount is missing.", column)
    return parsed[0]


def check_date(value: datetime.date | None, column: str) -> datetime.date:
    if value is None:
        raise RowProblem("Date is missing.", column)
    if not MIN_DATE <= value <= MAX_DATE:
        raise RowProblem(f"Date {value.isoformat()} is outside 1900-01-01..2100-12-31.", column)
    return value


class EntriesParse:
    """Iterable of ParsedRow | RowError for a statement format; the same attributes as the CSV parse."""

    def __init__(self, fmt: str, profile: Profile | None, entries, statement: Statement, warnings=None):
        self.format = fmt
        self.profile = profile
        self.detected_by = "explicit" if profile is not None else "format"
        self.statement = statement
        self.warnings: list[str] = list(warnings or [])
        self.skipped = 0
        self._entries = entries
        self._categories = CategoryMapper(profile.category_map if profile else {})

    def __iter__(self) -> Iterator[ParsedRow | RowError]:
        total = Decimal(0)
        count = 0
        errors = False
        balances = RunningBalance()
        rounded: list[int] = []
        for entry in self._entries:
            count += 1
            if entry.skip:
                self.skipped += 1
                continue
            try:
                if entry.problem is not None:
                    raise entry.problem
                category = self._categories(entry.bank_category)
                if category == IGNORE:
                    self.skipped += 1
                    continue
                amount = -entry.bank_amount
                if amount != amount.quantize(CENT):
                    amount = amount.quantize(CENT, ROUND_HALF_EVEN)
                    rounded.append(entry.number)
                amount = to_cents(amount)
                if not amount:
                    raise RowProblem("Amount is zero.", "amount")
                row = ParsedRow(
                    row_number=entry.number,
                    date=check_date(entry.date, "date"),
                    amount=amount,
                    payee=entry.payee.strip() or entry.description.strip() or entry.notes.strip(),
                    description=entry.description.strip(),
                    notes=entry.notes.strip(),
                    bank_category=entry.bank_category.strip(),
                    category=category,
                    currency=(entry.currency or self.statement.currency).upper(),
                    external_id=entry.external_id.strip(),
                    balance=entry.balance,
                )
            except RowProblem as exc:
                errors = True
                yield RowError(entry.number, exc.column, str(exc), entry.raw)
                continue
            total += row.amount
            balances.add(row.row_number, row.amount, row.balance)
            yield row
        if not count:
            raise ImportFileError("no_rows", f"The {self.format.upper()} file has no transactions in it.",
                                  "Check the export's date range.")  # fmt: skip
        if rounded:
            shown = ", ".join(map(str, rounded[:10])) + (", ..." if len(rounded) > 10 else "")
            self.warnings.append(f"rounded {len(rounded)} amount(s) with fractions of a cent to cents (rows {shown})")
        self.warnings.extend(balances.warnings())
        if warning := statement_warning(self.statement, total, errors):
            self.warnings.append(warning)
