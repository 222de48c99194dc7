"""Where a table's transactions are: the header row (after a bank's
preamble), the profile that reads it (given, detected by signature, or
guessed from the header names), the columns each role is in, and the file's
date order. The first of the two passes over the records (tabular.py)."""

import dataclasses
import re

from .categories import CategoryMapper
from .profiles import BUILTIN_PROFILES, EXACT_SIGNATURES, generic_profile, looks_like_header, match_signature, normalise
from .records import width
from .types import ImportFileError, Profile, RowProblem, Statement
from .values import AmountParser, DateParser, looks_like_date, numeric_parts

HEADER_SEARCH = 50
# Data rows whose dates are checked against a profile's date format before it is trusted.
DATE_SAMPLE = 5000
HEADERLESS_SAMPLE = 20
SIGN_EVIDENCE = 5
SIGN_WORDS = 2
# Words that say which way a row's money went, in the languages of the generic header synonyms.
_MONEY_IN = re.compile(
    r"(?i)\b(?:salary|salaire|salario|salaris|gehalt|lohn|payroll|direct dep(?:osit)?|deposit|dividend|"
    r"interest (?:paid|credit|earned)|refund|erstattung|gutschrift|remboursement|reembolso|terugbetaling|"
    r"payment received|payment[ -]+thank you|autopay payment|cash ?back)"
)
_MONEY_OUT = re.compile(
    r"(?i)\b(?:atm|withdrawal|purchase|pos purchase|debit card|card payment|bought|fee|geldautomat|"
    r"bargeldauszahlung|kartenzahlung|lastschrift|abbuchung|pinbetaling|geldopname|retrait|achat|"
    r"pr[eé]l[eè]vement|compra|retirada)\b"
)
_OPENING = re.compile(r"(?i)^(beginning|opening) balance")
_CLOSING = re.compile(r"(?i)^(ending|closing) balance")


class TableLayout:
    """Finds the header and compiles the profile into column positions;
    TableParse maps the rows with them."""

    records: object
    statement: Statement
    warnings: list[str]
    generic_defaults: dict | None = None

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
        headerless = None
        if header is None and seen_text and profile is None and not skip:
            headerless = self._headerless()
            if headerless is not None:
                header = 0, headerless[0]
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
        elif headerless is not None:
            profile = self._generic(headerless[1])
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
        if self.detected_by == "generic" and "direction_column" not in overrides:
            self._find_direction()
        if self.detected_by == "generic" and "sign" not in overrides and "sign" not in (self.generic_defaults or {}):
            self._guess_sign()
        if not self.profile.date_format:
            self._detect_date_order()
        self.statement.currency = self.profile.currency

    def _headerless(self) -> tuple[list[str], tuple[Profile, list[str]]] | None:
        """A file without a header row (Wells Fargo's CSV download: "date","amount","*","check","description"):
        when the first rows all have the same cells, one column of dates and one of amounts in every
        row, the columns are named by position and mapped by what they hold."""
        rows = []
        for number, problem, cells in self.records:
            if problem is not None or not any(cell.strip() for cell in cells):
                continue
            rows.append(cells)
            if len(rows) >= HEADERLESS_SAMPLE or number >= HEADER_SEARCH:
                break
        size = len(rows[0]) if rows else 0
        if size < 2 or any(len(cells) != size for cells in rows):
            return None
        parse_amount = AmountParser("", "")

        def amount(cell: str) -> bool:
            try:
                return parse_amount(cell) is not None and not looks_like_date(cell)
            except RowProblem:
                return False

        dates = [i for i in range(size) if all(looks_like_date(cells[i]) for cells in rows)]
        amounts = [i for i in range(size) if i not in dates and all(amount(cells[i]) for cells in rows)]
        texts = [i for i in range(size) if i not in dates and i not in amounts]
        if not dates or not amounts or not texts:
            return None
        header = [f"column {i + 1}" for i in range(size)]
        described = max(texts, key=lambda i: sum(len(cells[i].strip()) for cells in rows))
        if not any(rows_cell.strip() for rows_cell in (cells[described] for cells in rows)):
            return None
        columns = {"date": header[dates[0]], "amount": header[amounts[0]], "description": header[described]}
        profile = Profile(name="generic", decimal_separator="", columns=columns)
        guessed = [f"{role}={name}" for role, name in columns.items()]
        return header, (profile, ["(no header row; by content) " + guessed[0], *guessed[1:]])

    def _generic(self, mapped: tuple[Profile, list[str]] | None = None) -> Profile:
        profile, guessed = mapped or generic_profile(self.header)
        if self.generic_defaults:  # the caller's convention for a file no profile names (e.g. its sign)
            profile = dataclasses.replace(profile, **self.generic_defaults)
        self.detected_by = "generic"
        self.warnings.append("guessed columns: " + ", ".join(guessed))
        return profile

    def _amount_rows(self):
        """(cells, parsed amount) of each data row whose amount cell parses to a value:
        the sample the direction and sign guesses read."""
        for number, problem, cells in self.records:
            if number <= self.header_row or problem is not None or self.i_amount >= len(cells):
                continue
            try:
                parsed = self.amounts(cells[self.i_amount])
            except RowProblem:
                continue
            if parsed is not None:
                yield cells, parsed

    def _find_direction(self) -> None:
        """A generic file whose amounts are all unsigned and that has a column holding
        nothing but debit/credit words (Mint's "Transaction Type": debit, credit) reads
        its direction from that column, whatever the column's name."""
        if self.i_amount is None or self.i_direction is not None:
            return
        used = {self.i_date, self.i_amount, self.i_payee, self.i_notes, self.i_category, self.i_currency,
                self.i_external, self.i_balance, self.i_tags, *self.i_description}  # fmt: skip
        candidates = [i for i in range(len(self.header)) if i not in used]
        words = self.outs | self.ins
        seen: dict[int, set[str]] = {i: set() for i in candidates}
        rows = 0
        for cells, parsed in self._amount_rows():
            if parsed[0] < 0 or parsed[1] is not None:
                return  # signed amounts carry their own direction
            rows += 1
            for i in list(seen):
                value = cells[i].strip().casefold() if i < len(cells) else ""
                if value not in words:
                    del seen[i]
                else:
                    seen[i].add(value)
            if not seen or rows >= DATE_SAMPLE:
                break
        found = [i for i, values in seen.items() if values & self.outs]
        if not rows or not found:
            return
        name = self.header[found[0]].strip()
        self._use(dataclasses.replace(self.profile, direction_column=name), {})
        line = max(i for i, warning in enumerate(self.warnings) if warning.startswith("guessed columns"))
        self.warnings[line] += f", direction={name} (every row says {'/'.join(sorted(seen[found[0]]))})"

    def _guess_sign(self) -> None:
        """A file no profile names, with one signed amount column. What its rows say
        decides first: a salary, deposit, refund or card payment received is money in,
        an ATM withdrawal, purchase or fee is money out, so the sign those rows carry
        tells the file's convention. Without such rows, most rows of any statement are
        money out: amounts that are mostly positive mean positive is out (a card's
        charges, a spending log); otherwise negative is out, as most banks write.
        Either way the preview says what was guessed and from what."""
        if self.i_amount is None or self.i_direction is not None:
            return
        positive = negative = 0
        says_in_is_negative = says_in_is_positive = 0  # rows whose words tell their direction
        texts = [i for i in [self.i_payee, *self.i_description] if i is not None]
        for cells, parsed in self._amount_rows():
            if parsed[1] is not None or not parsed[0]:
                continue  # empty, zero, or marked Dr/Cr: no evidence about the sign
            positive += parsed[0] > 0
            negative += parsed[0] < 0
            text = " ".join(cells[i] for i in texts if i < len(cells))
            direction = _MONEY_IN.search(text) and "in" or _MONEY_OUT.search(text) and "out"
            if direction:
                if (direction == "in") == (parsed[0] > 0):
                    says_in_is_positive += 1
                else:
                    says_in_is_negative += 1
            if positive + negative >= DATE_SAMPLE:
                break
        told = says_in_is_positive + says_in_is_negative
        if told >= SIGN_WORDS and max(says_in_is_positive, says_in_is_negative) >= 3 * min(
            says_in_is_positive, says_in_is_negative
        ):
            sign = "negative_is_out" if says_in_is_positive > says_in_is_negative else "positive_is_out"
            evidence = (
                f"{max(says_in_is_positive, says_in_is_negative)} of {told} rows whose descriptions say money in "
                "or out (salary, deposit, refund, payment received; ATM, purchase, fee) agree"
            )
        else:
            # Below SIGN_EVIDENCE signed amounts a file says too little; the banks' own habit wins.
            mostly_positive = positive + negative >= SIGN_EVIDENCE and positive > 2 * negative
            sign = "positive_is_out" if mostly_positive else "negative_is_out"
            evidence = f"{positive} positive, {negative} negative amounts; most rows of a statement are money out"
        if sign != self.profile.sign:
            self._use(dataclasses.replace(self.profile, sign=sign), {})
        # Said on the guessed-columns line, where the user reads what detection chose.
        line = max(i for i, warning in enumerate(self.warnings) if warning.startswith("guessed columns"))
        self.warnings[line] += f"; guessed sign={sign} ({evidence}; if that is wrong, choose the other sign)"

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
        self.i_tags = find("tags")
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
