import datetime
from decimal import Decimal

import pytest

from config.exceptions import DomainError
from ledger.imports.parsing import RowError, parse_amount, parse_csv, parse_date


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.50", "12.50"),
        ("12,50", "12.50"),
        ("12,5", "12.50"),
        ("1,234.56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1,234,567", "1234567"),
        ("(12.50)", "-12.50"),
        ("-$5.00", "-5.00"),
        ("€ 7", "7"),
        ("+3.10", "3.10"),
    ],
)
def test_amounts_in_common_notations_parse(raw, expected):
    assert parse_amount(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["abc", "1,234", "0", "0.00", "1.234", "12.5.1", "", "99999999999"])
def test_bad_or_ambiguous_amounts_are_refused(raw):
    with pytest.raises(RowError):
        parse_amount(raw)


@pytest.mark.parametrize(
    ("raw", "day_first", "expected"),
    [
        ("2024-03-05", False, datetime.date(2024, 3, 5)),
        ("2024/03/05", False, datetime.date(2024, 3, 5)),
        ("05.03.2024", False, datetime.date(2024, 3, 5)),
        ("03/05/2024", False, datetime.date(2024, 3, 5)),
        ("05/03/2024", True, datetime.date(2024, 3, 5)),
        ("5 Mar 2024", False, datetime.date(2024, 3, 5)),
        ("Mar 5, 2024", False, datetime.date(2024, 3, 5)),
    ],
)
def test_common_date_formats_parse(raw, day_first, expected):
    assert parse_date(raw, day_first=day_first) == expected


@pytest.mark.parametrize("raw", ["2024-02-30", "yesterday", "13/13/2024", ""])
def test_bad_dates_are_refused(raw):
    with pytest.raises(RowError):
        parse_date(raw, day_first=False)


def test_a_file_with_a_day_above_12_is_read_day_first():
    parsed = parse_csv("date,amount,merchant\n25/01/2024,1,A\n02/03/2024,2,B\n")
    assert [row.date for row in parsed.rows] == [datetime.date(2024, 1, 25), datetime.date(2024, 3, 2)]


def test_rows_are_numbered_like_a_spreadsheet_and_errors_kept_per_row():
    parsed = parse_csv("Date,Amount,Description\n2024-01-01,5,A\n\n2024-13-01,5,B\n2024-01-02,x,C\n2024-01-03,2,\n")
    assert [row.number for row in parsed.rows] == [2]
    assert [number for number, _ in parsed.errors] == [4, 5, 6]


def test_header_aliases_optional_columns_and_category_case():
    parsed = parse_csv(
        "merchant,date,amount,category,currency,memo,external_id\nShop,2024-01-01,3,groceries,eur,hi,X1\n"
    )
    row = parsed.rows[0]
    assert (row.merchant, row.category, row.currency, row.notes, row.external_id) == (
        "Shop",
        "Groceries",
        "EUR",
        "hi",
        "X1",
    )


def test_unknown_category_is_a_row_error():
    parsed = parse_csv("date,amount,merchant,category\n2024-01-01,3,Shop,Stuff\n")
    assert parsed.errors == [(2, "Unknown category 'Stuff'.")]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"date,amount,merchant\n", "empty"),
        (b"when,how much,who\n2024-01-01,1,A\n", "bad_header"),
        ("date,amount,merchant\n2024-01-01,1,Caf\u00e9\n".encode("latin-1"), "encoding"),
    ],
)
def test_file_level_problems_raise(content, code):
    with pytest.raises(DomainError) as excinfo:
        parse_csv(content)
    assert excinfo.value.code == code


def test_utf8_bom_is_accepted():
    parsed = parse_csv("\ufeffdate,amount,merchant\n2024-01-01,1,Café\n".encode())
    assert parsed.rows[0].merchant == "Café"
