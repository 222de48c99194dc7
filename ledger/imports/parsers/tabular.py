"""CSV and XLSX rows -> ParsedRow, through a profile.

Two passes over the records keep memory flat: the first (layout.py) finds
the header, checks a profile's date format against the file's dates and,
when the profile has none, finds the file's day/month order (it stops at the
first date that decides it); the second maps rows one by one."""

import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from .categories import IGNORE
from .checks import RunningBalance, statement_warning
from .layout import TableLayout
from .profiles import normalise
from .records import width
from .types import ImportFileError, ParsedRow, Profile, RowError, RowProblem, Statement
from .values import looks_like_date

Records = Iterable[tuple[int, RowProblem | None, list[str]]]  # re-iterable: CsvRecords or XlsxRecords
_CURRENCY = re.compile(r"[A-Z]{3}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SKIP = object()
MAX_TAGS, MAX_TAG_LENGTH = 20, 64
# A statement's balance written as a row of the table (Volksbank's Anfangssaldo/Endsaldo
# trailer, ING's beginsaldo): read into the statement, never imported as a transaction.
_BALANCE_ROW = re.compile(
    r"(?i)^(?:(?P<open>anfangssaldo|alter kontostand|beginsaldo|solde initial|saldo inicial|"
    r"(?:beginning|opening|start) balance)|(?P<close>endsaldo|neuer kontostand|eindsaldo|solde final|"
    r"saldo final|(?:ending|closing|end) balance))\b"
)


def _unescape(text: str) -> str:
    # Tally's export defuses spreadsheet formulas with a leading apostrophe.
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START else text


def _tags(cell: str, column: str) -> tuple[str, ...]:
    """A `tags` cell: names separated by ';' (as Tally's export writes them), or ',' when there is no ';'."""
    cell = _unescape(cell.strip())
    if not cell:
        return ()
    parts = cell.split(";") if ";" in cell else cell.split(",")
    names = tuple(dict.fromkeys(" ".join(part.split()) for part in parts if part.strip()))
    if len(names) > MAX_TAGS or any(len(name) > MAX_TAG_LENGTH for name in names):
        raise RowProblem(f"At most {MAX_TAGS} tags of at most {MAX_TAG_LENGTH} characters each.", column)
    return names


def _strip_quotes(text: str) -> str:
    # Amex writes its reference as '320261830000001'.
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == "'" else text


class TableParse(TableLayout):
    """Iterate to get ParsedRow | RowError; statement, warnings and skipped are final after iteration."""

    def __init__(self, records: Records, *, fmt: str, profile: Profile | None, overrides: dict | None,
                 max_rows: int, pad_rows: bool = False, generic_defaults: dict | None = None):  # fmt: skip
        self.format = fmt
        self.generic_defaults = generic_defaults
        self.records = records
        self.max_rows = max_rows
        self.pad_rows = pad_rows
        self.warnings: list[str] = []
        self.skipped = 0
        self.statement = Statement()
        self._locate(profile, overrides or {})

    def __iter__(self) -> Iterator[ParsedRow | RowError]:
        pending: list[RowError] = []
        data_rows = 0
        balances = RunningBalance()
        total = Decimal(0)
        any_errors = False
        header_key = [normalise(cell) for cell in self.header]
        header_date = self.header[self.i_date].strip().lower()
        for number, problem, cells in self.records:
            if number <= self.header_row:
                continue
            if problem is None and not "".join(cells).strip():
                continue
            if (
                problem is None
                and self.i_date < len(cells)
                and cells[self.i_date].strip().lower() == header_date
                and [normalise(cell) for cell in cells] == header_key
            ):
                continue  # a header repeated on every page
            data_rows += 1
            if data_rows > self.max_rows:
                raise ImportFileError("too_large", f"The file has more than {self.max_rows} rows.",
                                      "Split the file into smaller date ranges.")  # fmt: skip
            try:
                if problem is not None:
                    raise problem
                row = self._row(number, cells)
            except RowProblem as exc:
                error = RowError(number, exc.column, str(exc), self._raw(cells))
                date_cell = cells[self.i_date] if self.i_date < len(cells) else ""
                if problem is None and not looks_like_date(date_cell):
                    pending.append(error)  # perhaps a trailing summary line; decided by what follows
                else:
                    yield from pending
                    pending.clear()
                    any_errors = True
                    yield error
                continue
            if row is _SKIP:
                self.skipped += 1
                continue
            if pending:
                any_errors = True
                yield from pending
                pending.clear()
            total += row.amount
            balances.add(row.row_number, row.amount, row.balance)
            yield row
        if pending:
            first, last = pending[0].row_number, pending[-1].row_number
            data_rows -= len(pending)
            self.warnings.append(
                f"ignored {len(pending)} trailing line(s) that are not transactions (rows {first}-{last})"
            )
        if data_rows == 0:
            raise ImportFileError(
                "no_rows",
                "The file has a header but no transaction rows.",
                f"Check the export's date range; the header was read as profile {self.profile.name}.",
            )
        self.warnings.extend(balances.warnings())
        if warning := statement_warning(self.statement, total, any_errors):
            self.warnings.append(warning)

    def _raw(self, cells: list[str]) -> dict[str, str]:
        raw = {}
        for position, cell in enumerate(cells[:64]):
            name = self.header_names[position] if position < len(self.header_names) else f"column {position + 1}"
            # PostgreSQL's jsonb cannot hold a NUL character.
            raw[name or f"column {position + 1}"] = cell[:1000].replace("\x00", "\ufffd")
        return raw

    def _row(self, number: int, cells: list[str]):
        size = len(cells)
        if size != len(self.header):
            if self.pad_rows and size < len(self.header):
                cells = cells + [""] * (len(self.header) - size)
            elif size > len(self.header) and width(cells) <= len(self.header):
                cells = cells[: len(self.header)]
            elif width(cells) != self.width or size < self.width:
                raise RowProblem(f"The row has {size} cells but the header has {len(self.header)}.")
            else:
                cells = cells + [""] * (len(self.header) - size)
        if "\x00" in "".join(cells):
            raise RowProblem("The row contains a NUL byte (binary data in a text file).")
        for position, matches in self.filters:
            if position is not None and matches(cells[position]):
                return _SKIP
        label = cells[self.i_payee] if self.i_payee is not None else ""
        if not label.strip() and self.i_description:
            label = cells[self.i_description[0]]
        if label and (balance_row := _BALANCE_ROW.match(label.strip())):
            return self._balance_row(balance_row, cells)
        bank_category = cells[self.i_category].strip() if self.i_category is not None else ""
        category = self.categories(bank_category)
        if category == IGNORE:
            return _SKIP
        date = self.dates(cells[self.i_date])
        amount = self._amount(cells)
        descriptions = [cells[i].strip() for i in self.i_description if cells[i].strip()]
        description = " ".join(descriptions)
        payee = cells[self.i_payee].strip() if self.i_payee is not None else ""
        notes = cells[self.i_notes].strip() if self.i_notes is not None else ""
        if self.unescape:
            payee, notes, description = _unescape(payee), _unescape(notes), _unescape(description)
        currency = cells[self.i_currency].strip().upper() if self.i_currency is not None else ""
        if currency and not _CURRENCY.fullmatch(currency):
            raise RowProblem(f"Currency {currency!r} is not a 3-letter ISO code.", self._name(self.i_currency))
        external_id = _strip_quotes(cells[self.i_external].strip()) if self.i_external is not None else ""
        if self.unescape:
            external_id = _unescape(external_id)
        balance = None
        if self.i_balance is not None:
            try:
                parsed = self.amounts(cells[self.i_balance])
                balance = parsed[0] if parsed else None
            except RowProblem:
                balance = None
        tags = _tags(cells[self.i_tags], self._name(self.i_tags)) if self.i_tags is not None else ()
        payee = payee or description or notes  # a file whose only text column is a note ("Note", "Remarque")
        if "\n" in payee:  # a quoted cell spanning lines: the merchant text is one line (the cell stays as is)
            payee = " ".join(payee.split())
        # Positional: this runs once per row of a million-row file.
        return ParsedRow(
            number,
            date,
            amount,
            payee,
            description,
            notes,
            bank_category,
            category,
            currency or self.profile.currency,
            external_id,
            balance,
            tags,
        )

    def _balance_row(self, match: re.Match, cells: list[str]):
        """Keep a balance row's amount (the bank's sign) as the statement's opening or closing balance."""
        column = self.i_amount if self.i_amount is not None else self.i_balance
        try:
            parsed = self.amounts(cells[column]) if column is not None else None
        except RowProblem:
            parsed = None
        if parsed is not None:
            value = abs(parsed[0]) if parsed[1] == "in" else -abs(parsed[0]) if parsed[1] == "out" else parsed[0]
            if match.group("open"):
                self.statement.opening_balance = value
            else:
                self.statement.closing_balance = value
        return _SKIP

    def _name(self, position: int | None) -> str:
        return self.header_names[position] if position is not None else ""

    def _amount(self, cells: list[str]) -> Decimal:
        try:
            if self.i_amount is not None:
                column = self.i_amount
                parsed = self.amounts(cells[column])
                if parsed is None:
                    raise RowProblem("Amount is empty.")
                value, marker = parsed
                if self.i_direction is not None:
                    column = self.i_direction
                    flag = cells[column].strip().casefold()
                    if flag in self.outs:
                        amount = abs(value)
                    elif flag in self.ins:
                        amount = -abs(value)
                    else:
                        raise RowProblem(f"Direction {cells[column].strip()!r} is not one of the profile's values.")
                elif marker is not None:
                    amount = abs(value) if marker == "out" else -abs(value)
                else:
                    amount = -value if self.negative_is_out else value
                if self.i_fee is not None:
                    column = self.i_fee
                    fee = self.amounts(cells[column])
                    if fee is not None:
                        amount += abs(fee[0])
            else:
                column = self.i_debit if self.i_debit is not None else self.i_credit
                debit = self.amounts(cells[self.i_debit]) if self.i_debit is not None else None
                column = self.i_credit if self.i_credit is not None else column
                credit = self.amounts(cells[self.i_credit]) if self.i_credit is not None else None
                out = abs(debit[0]) if debit else Decimal(0)
                back = abs(credit[0]) if credit else Decimal(0)
                if out and back:
                    raise RowProblem("The row has both a debit and a credit amount.")
                if debit is None and credit is None:
                    raise RowProblem("The row has neither a debit nor a credit amount.")
                amount = out - back
        except RowProblem as exc:
            exc.column = exc.column if exc.column and exc.column != "amount" else self._name(column)
            if not exc.column:
                exc.column = self._name(column)
            raise
        if not amount:
            raise RowProblem("Amount is zero.", self._name(column))
        return amount
