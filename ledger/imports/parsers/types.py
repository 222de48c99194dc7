"""The shapes every parser returns. Pure Python: importable without Django."""

import dataclasses
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

FORMATS = ("csv", "ofx", "qif", "camt053", "mt940", "xlsx")
SIGNS = ("negative_is_out", "positive_is_out")


class ImportFileError(ValueError):
    """A problem with the whole file (the API answers 400 with code, message and hint)."""

    def __init__(self, code: str, message: str, hint: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint

    def __repr__(self) -> str:
        return f"ImportFileError({self.code!r}, {self.message!r}, {self.hint!r})"


class RowProblem(ValueError):
    """Raised inside a parser for one row; turned into a RowError with the row's number and raw cells."""

    def __init__(self, message: str, column: str = ""):
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Profile:
    name: str
    format: str = "csv"
    header_signature: tuple[str, ...] = ()
    delimiter: str = ""
    encoding: str = ""
    skip_rows: int = 0
    date_format: str = ""
    decimal_separator: str = "."
    thousands_separator: str = ""
    columns: dict[str, str | list[str]] = field(default_factory=dict)
    sign: str = "negative_is_out"
    direction_column: str = ""
    direction_out_values: tuple[str, ...] = ()
    direction_in_values: tuple[str, ...] = ()
    row_filters: tuple[dict, ...] = ()
    category_map: dict[str, str] = field(default_factory=dict)
    currency: str = ""

    def __post_init__(self):
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        if self.sign not in SIGNS:
            raise ValueError(f"sign must be one of {', '.join(SIGNS)}")
        if self.decimal_separator not in (".", ",", ""):
            raise ValueError("decimal_separator must be '.', ',' or '' (detect)")
        if self.thousands_separator not in ("", ",", ".", " ", "'", "\u00a0"):
            raise ValueError("thousands_separator must be one of , . space ' or empty")
        if self.decimal_separator and self.decimal_separator == self.thousands_separator:
            raise ValueError("decimal and thousands separators must differ")
        if len(self.delimiter) > 1:
            raise ValueError("delimiter must be one character or '' (sniff)")
        if self.skip_rows < 0:
            raise ValueError("skip_rows must not be negative")

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        for key in ("header_signature", "direction_out_values", "direction_in_values", "row_filters"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Profile":
        known = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in data.items() if key in known}
        for key in ("header_signature", "direction_out_values", "direction_in_values"):
            if key in values:
                values[key] = tuple(values[key])
        if "row_filters" in values:
            values["row_filters"] = tuple(dict(item) for item in values["row_filters"])
        for key in ("columns", "category_map"):
            if key in values:
                values[key] = dict(values[key])
        return cls(**values)


@dataclass
class ParsedRow:
    row_number: int
    date: datetime.date
    amount: Decimal
    payee: str
    description: str
    notes: str
    bank_category: str
    category: str
    currency: str
    external_id: str
    balance: Decimal | None = None
    tags: tuple[str, ...] = ()


@dataclass
class RowError:
    row_number: int
    column: str
    message: str
    raw: dict[str, str]


@dataclass
class Statement:
    currency: str = ""
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    account_ref: str = ""
    closing_date: datetime.date | None = None  # OFX LEDGERBAL's DTASOF


@dataclass
class ParseResult:
    format: str
    profile: Profile | None
    detected_by: str
    rows: list[ParsedRow]
    errors: list[RowError]
    skipped: int
    statement: Statement
    warnings: list[str]
