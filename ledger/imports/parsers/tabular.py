"""CSV and XLSX rows -> ParsedRow, through a profile.

Two passes over the records keep memory flat: the first finds the header,
checks a profile's date format against the file's dates and, when the
profile has none, finds the file's day/month order (it stops at the first
date that decides it); the second maps rows one by one."""

import dataclasses
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal

from .categories import IGNORE, CategoryMapper
from .checks import RunningBalance, statement_warning
from .profiles import BUILTIN_PROFILES, EXACT_SIGNATURES, generic_profile, looks_like_header, match_signature, normalise
from .records import width
from .types import ImportFileError, ParsedRow, Profile, RowError, RowProblem, Statement
from .values import AmountParser, DateParser, looks_like_date, numeric_parts

HEADER_SEARCH = 50
# Data rows whose dates are checked against a profile's date format before it is trusted.
DATE_SAMPLE = 5000
Records = Iterable[tuple[int, RowProblem | None, list[str]]]  # re-iterable: CsvRecords or XlsxRecords
_CURRENCY = re.compile(r"[A-Z]{3}")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SKIP = object()
_OPENING = re.compile(r"(?i)^(beginning|opening) balance")
_CLOSING = re.compile(r"(?i)^(ending|closing) balance")
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


def _strip_quotes(text: str) -> str:
    # Amex writes its reference as '320261830000001'.
    return text[1:-1] if len(text) > 1 and text[0] == text[-1] == "'" else text


class TableParse:
    """Iterate to get ParsedRow | RowError; statement, warnings and skipped are final after iteration."""

    def __init__(self, records: Records, *, fmt: str, profile: Profile | None, overrides: dict | None,
                 max_rows: int, pad_rows: bool = False):  # fmt: skip
        self.format = fmt
        self.records = records
        self.max_rows = max_rows
        self.pad_rows = pad_rows
        self.warnings: list[str] = []
        self.skipped = 0
        self.statement = Statement()
        self._locate(profile, overrides or {})

    # Header and profile ------------------------------------------------------------------------------------------

    def _locate(self, profile: Profile | None, overrides: dict) -> None:
        seen_text = False
        header = None
        looks_like = None
        skip = overrides.get("skip_rows", profile.skip_rows if profile else 0)
        for number, problem, cells in self.records:
            if problem is not None or not any(cell.strip() for cell in cells):
                continue
            seen_text = True
            if skip:
                if number > skip:
                    header = number, cells
                    break
                continue
            if (
                profile is not None
                and self._fits(profile, cells)
                or profile is None
                and (match_signature(cells) or looks_like_header(cells))
            ):
                header = number, cells
                break
            looks_like = looks_like or match_signature(cells)
            self._preamble(cells)
            if number >= HEADER_SEARCH:
                break
        if header is None:
            if not seen_text:
                raise ImportFileError("empty_file", "The file has no text in it.")
            if profile is not None:
                raise ImportFileError(
                    "bad_header",
                    f"The file's header does not have the columns of profile {profile.name}.",
                    f"This looks like the {looks_like.name} export." if looks_like else "Import without a profile.",
                )
            raise ImportFileError(
                "bad_header",
                "No header row with a date and an amount column was found in the first lines.",
                "Set skip_rows to the number of lines before the header, or choose the bank's profile: "
                + ", ".join(BUILTIN_PROFILES),
            )
        self.header_row, self.header = header
        if hasattr(self.records, "expected"):
            self.records.expected = len(self.header)
        if profile is not None:
            self.detected_by = "explicit"
        else:
            profile = match_signature(self.header)
            self.detected_by = "signature"
            if profile is None:
                profile = self._generic()
        self._use(profile, overrides)
        if self.profile.date_format and "date_format" not in overrides and not self._dates_fit():
            if self.detected_by == "signature" and self.profile.name in EXACT_SIGNATURES:
                # A bare Date,Description,Amount file whose dates are not Amex's: not an Amex export.
                self._use(self._generic(), overrides)
            else:
                self.warnings.append(
                    f"dates do not match {self.profile.date_format} of profile {self.profile.name}; "
                    "read them by detection instead"
                )
                self._use(dataclasses.replace(self.profile, date_format=""), {})
        if self.profile.name in EXACT_SIGNATURES and self.detected_by == "signature":
            self.warnings.append(
                "A Date,Description,Amount header was read as American Express (charges positive); "
                "if money out is negative in this file, choose sign negative_is_out."
            )
        if not self.profile.date_format:
            self._detect_date_order()
        self.statement.currency = self.profile.currency

    def _generic(self) -> Profile:
        profile, guessed = generic_profile(self.header)
        self.detected_by = "generic"
        self.warnings.append("guessed columns: " + ", ".join(guessed))
        return profile

    def _use(self, profile: Profile, overrides: dict) -> None:
        if overrides:
            try:
                profile = dataclasses.replace(profile, **overrides)
            except (TypeError, ValueError) as exc:
                raise ImportFileError("bad_option", f"Invalid import option: {exc}")
        self.profile = profile
        if hasattr(self.records, "decimal"):
            self.records.decimal = profile.decimal_separator or "."
        self._compile()

    def _dates_fit(self) -> bool:
        """Whether every date of the file (up to DATE_SAMPLE rows) parses with
        the profile's format: a 25/04/2024 on row 300 says a %m/%d/%Y profile
        does not fit, even when the first rows (01/02/2024) happen to parse.
        Cells that do not look like dates (summary lines) are no evidence."""
        seen = 0
        for number, problem, cells in self.records:
            if number <= self.header_row or problem is not None or self.i_date >= len(cells):
                continue
            value = cells[self.i_date]
            if not looks_like_date(value):
                continue
            seen += 1
            try:
                self.dates(value)
            except RowProblem:
                return False
            if seen >= DATE_SAMPLE:
                break
        return True

    def _fits(self, profile: Profile, cells: list[str]) -> bool:
        names = {normalise(cell) for cell in cells}
        if profile.header_signature:
            return set(profile.header_signature) <= names
        return all(normalise(name) in names for name in self._required(profile))

    @staticmethod
    def _required(profile: Profile) -> list[str]:
        required = [profile.columns.get("date", "")]
        for role in ("amount", "debit", "credit"):
            if role in profile.columns:
                required.append(profile.columns[role])
        return [name for name in required if isinstance(name, str)]

    def _preamble(self, cells: list[str]) -> None:
        # Bank of America puts beginning/ending balances in a summary block above the table.
        label = cells[0].strip()
        values = [cell for cell in cells[1:] if cell.strip()]
        if not values or not (_OPENING.match(label) or _CLOSING.match(label)):
            return
        try:
            parsed = AmountParser("", "")(values[-1])
        except RowProblem:
            return
        if parsed is not None:
            if _OPENING.match(label):
                self.statement.opening_balance = parsed[0]
            else:
                self.statement.closing_balance = parsed[0]

    def _compile(self) -> None:
        profile = self.profile
        index = {}
        for position, cell in enumerate(self.header):
            index.setdefault(normalise(cell), position)
        self.width = width(self.header)
        self.header_names = [cell.strip() for cell in self.header]

        def find(role: str, required: bool = False) -> int | None:
            name = profile.columns.get(role)
            if not name or not isinstance(name, str):
                if required:
                    self._missing(role)
                return None
            position = index.get(normalise(name))
            if position is None and required:
                self._missing(name)
            return position

        self.i_date = find("date", required=True)
        self.i_amount = find("amount")
        self.i_debit, self.i_credit = find("debit"), find("credit")
        if self.i_amount is None and self.i_debit is None and self.i_credit is None:
            self._missing(profile.columns.get("amount") or "amount (or debit/credit)")
        self.i_fee = find("fee")
        self.i_payee, self.i_notes = find("payee"), find("notes")
        self.i_category, self.i_currency = find("category"), find("currency")
        self.i_external, self.i_balance = find("external_id"), find("balance")
        described = profile.columns.get("description", [])
        names = [described] if isinstance(described, str) else list(described)
        self.i_description = [index[normalise(name)] for name in names if normalise(name) in index]
        self.i_direction = index.get(normalise(profile.direction_column)) if profile.direction_column else None
        if profile.direction_column and self.i_direction is None:
            self._missing(profile.direction_column)
        self.outs = {value.strip().casefold() for value in profile.direction_out_values}
        self.ins = {value.strip().casefold() for value in profile.direction_in_values}
        self.filters = [self._filter(spec, index) for spec in profile.row_filters]
        self.amounts = AmountParser(profile.decimal_separator, profile.thousands_separator)
        self.categories = CategoryMapper(profile.category_map)
        self.negative_is_out = profile.sign == "negative_is_out"
        self.unescape = profile.name == "tally"
        self.dates = DateParser(profile.date_format)

    def _missing(self, name: str) -> None:
        suggestion = match_signature(self.header)
        hint = f"This header looks like the {suggestion.name} export." if suggestion else ""
        raise ImportFileError("bad_header", f"The file has no {name!r} column for profile {self.profile.name}.", hint)

    @staticmethod
    def _filter(spec: dict, index: dict[str, int]):
        position = index.get(normalise(str(spec.get("column", ""))))
        op, value = spec.get("op", "eq"), spec.get("value", "")
        if op == "in":
            wanted = {str(item).strip().casefold() for item in value}
            return position, lambda cell: cell.strip().casefold() in wanted
        if op == "eq":
            wanted_one = str(value).strip().casefold()
            return position, lambda cell: cell.strip().casefold() == wanted_one
        if op == "regex":
            pattern = re.compile(str(value))
            return position, lambda cell: pattern.search(cell) is not None
        if op == "empty":
            return position, lambda cell: not cell.strip()
        raise ImportFileError("bad_option", f"Unknown row filter op {op!r} (use in, eq, regex or empty).")

    def _detect_date_order(self) -> None:
        # One decisive date (a day above 12) settles the whole file; ISO and month-name dates never need it.
        day_first = month_first = dots = False
        numeric = other = 0
        for number, problem, cells in self.records:
            if number <= self.header_row or problem is not None or self.i_date >= len(cells):
                continue
            parts = numeric_parts(cells[self.i_date])
            if parts is None:
                other += 1
                if other >= 500 and not numeric:
                    break  # ISO or month-name dates: no order to decide
                continue
            first, second, separator = parts
            numeric += 1
            dots = dots or separator == "."
            day_first = day_first or first > 12 >= second
            month_first = month_first or second > 12 >= first
            if day_first or month_first:
                break
        if day_first or month_first:
            order = day_first
        elif not numeric:
            order = None
        elif dots:
            order = True  # 05.03.2024 is European everywhere
        else:
            raise ImportFileError(
                "ambiguous_dates",
                "Every date in the file fits both day-first and month-first order (like 03/05/2024).",
                "Set date_format to %d/%m/%Y (day first) or %m/%d/%Y (month first), or choose the bank's profile.",
            )
        self.dates = DateParser("", order)

    # Rows --------------------------------------------------------------------------------------------------------

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
        payee = payee or description
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
