"""A plain CSV as the one-call import (POST transactions/import) reads it:
the statement parser with the endpoint's convention for a table no bank
profile fits (positive amounts are money out). Ported from the first
importer's parser tests, which these cases replace."""

import datetime
from decimal import Decimal

import pytest

from ledger.imports.one_call import ONE_CALL_GENERIC
from ledger.imports.parsers import ImportFileError, parse_file


def read(text: str | bytes, **options):
    content = text.encode() if isinstance(text, str) else text
    return parse_file(content, generic_defaults=ONE_CALL_GENERIC, **options)


def one_amount(raw: str):
    parsed = read(f'date,amount,merchant\n2024-01-01,"{raw}",A\n2024-01-02,1.00,B\n')
    return parsed.rows[0].amount if parsed.rows[0].row_number == 2 else parsed.errors[0]


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
def test_amounts_in_common_notations_parse_positive_as_money_out(raw, expected):
    assert one_amount(raw) == Decimal(expected)


@pytest.mark.parametrize("raw", ["abc", "1,234", "0", "0.00", "1.234", "12.5.1", "", "99999999999"])
def test_bad_or_ambiguous_amounts_are_row_errors_naming_the_cell(raw):
    error = one_amount(raw)
    assert (error.row_number, error.column) == (2, "amount")


@pytest.mark.parametrize("raw", ["2024-03-05", "2024/03/05", "05.03.2024", "5 Mar 2024", "Mar 5, 2024"])
def test_common_date_formats_parse(raw):
    parsed = read(f'date,amount,merchant\n"{raw}",1,A\n')
    assert parsed.rows[0].date == datetime.date(2024, 3, 5)


@pytest.mark.parametrize("raw", ["2024-02-30", "yesterday", ""])
def test_bad_dates_are_row_errors(raw):
    parsed = read(f'date,amount,merchant\n"{raw}",1,A\n2024-01-02,1.00,B\n')
    assert [(e.row_number, e.column) for e in parsed.errors] == [(2, "date")]


def test_a_file_with_a_day_above_12_is_read_day_first():
    parsed = read("date,amount,merchant\n25/01/2024,1,A\n02/03/2024,2,B\n")
    assert [row.date for row in parsed.rows] == [datetime.date(2024, 1, 25), datetime.date(2024, 3, 2)]


def test_a_file_whose_every_date_fits_both_orders_is_refused_with_the_option_that_decides():
    with pytest.raises(ImportFileError) as excinfo:
        read("date,amount,merchant\n03/05/2024,1,A\n02/03/2024,2,B\n")
    assert excinfo.value.code == "ambiguous_dates"
    assert "date_format" in excinfo.value.hint


def test_rows_are_numbered_like_a_spreadsheet_and_errors_kept_per_row():
    parsed = read("Date,Amount,Description\n2024-01-01,5,A\n\n2024-13-01,5,B\n2024-01-02,x,C\n2024-01-03,2,\n")
    assert [row.row_number for row in parsed.rows] == [2, 6]  # row 6 has no payee: the preview makes it an error
    assert [error.row_number for error in parsed.errors] == [4, 5]


def test_header_aliases_optional_columns_tags_and_category_case():
    parsed = read(
        "merchant,date,amount,category,currency,memo,external_id,tags\nShop,2024-01-01,3,groceries,eur,hi,X1,a; b;a\n"
    )
    row = parsed.rows[0]
    assert (row.payee, row.category, row.bank_category, row.currency, row.description, row.external_id, row.tags) == (
        "Shop",
        "Groceries",
        "groceries",
        "EUR",
        "hi",
        "X1",
        ("a", "b"),
    )


def test_an_unknown_category_is_kept_as_the_bank_category_not_an_error():
    parsed = read("date,amount,merchant,category,notes\n2024-01-01,3,Shop,Stuff,n\n")
    assert parsed.errors == []
    assert (parsed.rows[0].category, parsed.rows[0].bank_category, parsed.rows[0].notes) == ("", "Stuff", "n")


def test_too_many_tags_is_a_row_error_in_the_tags_cell():
    parsed = read("date,amount,merchant,tags\n2024-01-01,3,Shop," + ";".join(f"t{n}" for n in range(21)) + "\n")
    assert [(e.row_number, e.column) for e in parsed.errors] == [(2, "tags")]


def test_a_bank_export_keeps_its_own_sign_and_sign_overrides_the_convention():
    chase = read(
        "Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n"
        "01/05/2024,01/06/2024,STARBUCKS,Food & Drink,Sale,-4.50,\n"
        "01/07/2024,01/07/2024,Payment Thank You,,Payment,500.00,\n"
    )
    flipped = read("date,amount,merchant\n2024-01-01,-3,Refund\n", overrides={"sign": "negative_is_out"})

    assert [row.amount for row in chase.rows] == [Decimal("4.50"), Decimal("-500.00")]
    assert flipped.rows[0].amount == Decimal("3.00")


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"date,amount,merchant\n", "no_rows"),
        (b"when,how much,who\n2024-01-01,1,A\n", "bad_header"),
        (b"%PDF-1.4 statement", "unknown_format"),
    ],
)
def test_file_level_problems_raise(content, code):
    with pytest.raises(ImportFileError) as excinfo:
        read(content)
    assert excinfo.value.code == code


@pytest.mark.parametrize(
    "content",
    [
        "\ufeffdate,amount,merchant\n2024-01-01,1,Café\n".encode(),
        "date,amount,merchant\n2024-01-01,1,Café\n".encode("cp1252"),
    ],
)
def test_utf8_bom_and_cp1252_are_read(content):
    assert read(content).rows[0].payee == "Café"
