"""Whole-file errors (ImportFileError codes) and row errors for broken CSVs. The broken shapes are the
ones bank downloads and spreadsheet re-saves actually produce: NUL bytes, shifted cells, stray quotes,
classic-Mac CR line ends, Windows-1252 and UTF-16 ("Unicode text") saves, UTF-8 BOMs."""

import datetime
from decimal import Decimal

import pytest

from ledger.imports.parsers import BUILTIN_PROFILES, ImportFileError, parse_file


def error_code(content: bytes, **kwargs) -> ImportFileError:
    with pytest.raises(ImportFileError) as caught:
        parse_file(content, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty_file"),
        (b"  \r\n\r\n", "empty_file"),
        (bytes(range(256)) * 8, "unknown_format"),
        (b"%PDF-1.7\n...", "unknown_format"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "unknown_format"),
        (b"Date,Description,Amount\r\n", "no_rows"),
        (b"foo,bar\n1,2\n", "bad_header"),
        (b"Date,Payee,Amount\n03/05/2024,A,-1.00\n04/06/2024,B,-2.00\n", "ambiguous_dates"),
        (b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"/>',
         "unknown_format"),
    ],
)  # fmt: skip
def test_whole_file_errors(content, code):
    assert error_code(content).code == code


def test_no_rows_hint_names_the_profile():
    assert "chase_credit" in error_code(b"Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n").hint


def test_bad_header_with_a_profile_suggests_the_matching_one():
    content = (
        b"Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n03/05/2024,03/06/2024,X,,Sale,-1.00,\n"
    )

    error = error_code(content, profile=BUILTIN_PROFILES["revolut"])

    assert error.code == "bad_header"
    assert "chase_credit" in error.hint


def test_too_many_rows():
    content = b"date,amount,payee\n" + b"2024-03-05,-1.00,A\n" * 5

    assert error_code(content, max_rows=3).code == "too_large"


def test_unknown_encoding_with_a_declared_codec():
    error = error_code(b"date,amount,payee\n2024-03-05,-1.00,\xff\xfe\xfd\n", overrides={"encoding": "utf-8"})

    assert error.code == "unknown_encoding"


def test_invalid_override_is_a_file_error():
    assert error_code(b"date,amount\n2024-03-05,1.00\n", overrides={"sign": "sideways"}).code == "bad_option"


def test_nul_byte_is_a_row_error_not_a_crash():
    content = (
        b"Datum;Betrag;Verwendungszweck\n05.03.2024;-12,50;Kaffee\n06.03.2024;-1\x0000;Bad\n07.03.2024;100,00;Gehalt\n"
    )

    result = parse_file(content)

    assert [row.row_number for row in result.rows] == [2, 4]
    assert [(error.row_number, "NUL" in error.message) for error in result.errors] == [(3, True)]


def test_wrong_cell_count_names_the_row_and_never_shifts():
    content = (
        b"Date,Description,Amount\n2024-03-05,Coffee,-3.50\n2024-03-06,Lunch,Big,-8.00\n2024-03-07,Salary,100.00\n"
    )

    result = parse_file(content)

    assert [row.payee for row in result.rows] == ["Coffee", "Salary"]
    assert result.errors[0].row_number == 3
    assert "4 cells" in result.errors[0].message
    assert result.errors[0].raw["Description"] == "Lunch"


def test_unbalanced_quote_is_one_row_error_and_the_following_rows_survive():
    content = b'date,description,amount\n2024-03-05,"Coffee,-3.50\n2024-03-06,Lunch,-8.00\n2024-03-07,Salary,100.00\n'

    result = parse_file(content)

    assert [(error.row_number, "quote" in error.message.lower()) for error in result.errors] == [(2, True)]
    assert [(row.row_number, row.payee, row.amount) for row in result.rows] == [
        (3, "Lunch", Decimal("8.00")),
        (4, "Salary", Decimal("-100.00")),
    ]


def test_quoted_newline_inside_a_cell_is_kept():
    result = parse_file(b'date,description,amount\n2024-03-05,"Coffee\nshop",-3.50\n2024-03-06,Lunch,-8.00\n')

    assert [row.description for row in result.rows] == ["Coffee\nshop", "Lunch"]
    assert [row.row_number for row in result.rows] == [2, 3]


def test_over_long_cell_is_a_row_error():
    content = b"Date,Payee,Amount\n2024-03-05," + b"x" * 140_000 + b",-1.00\n2024-03-06,B,-2.00\n"

    result = parse_file(content)

    assert [row.payee for row in result.rows] == ["B"]
    assert result.errors[0].row_number == 2 and "131072" in result.errors[0].message


@pytest.mark.parametrize("newline", [b"\r", b"\r\n", b"\n"])
def test_line_endings(newline):
    content = newline.join([b"date,description,amount", b"2024-03-05,Coffee,-3.50", b"2024-03-06,Lunch,-8.00", b""])

    result = parse_file(content)

    assert [(row.row_number, row.amount) for row in result.rows] == [(2, Decimal("3.50")), (3, Decimal("8.00"))]


@pytest.mark.parametrize(
    "content",
    [
        "Datum;Empfänger;Betrag\n05.03.2024;Bäcker Müller;-3,50\n".encode("cp1252"),
        "Datum\tEmpfänger\tBetrag\n05.03.2024\tBäcker Müller\t-3,50\n".encode("utf-16"),
        'Datum,Empfänger,Betrag\n05.03.2024,Bäcker Müller,"-3,50"\n'.encode("utf-16-be"),
        b"\xef\xbb\xbf" + "Datum|Empfänger|Betrag\n05.03.2024|Bäcker Müller|-3,50\n".encode(),
    ],
    ids=["cp1252", "utf16-bom", "utf16-be-no-bom", "utf8-bom-pipe"],
)
def test_encodings_and_delimiters(content):
    result = parse_file(content)

    assert result.detected_by == "generic"
    assert [(row.date, row.payee, row.amount) for row in result.rows] == [
        (datetime.date(2024, 3, 5), "Bäcker Müller", Decimal("3.50"))
    ]


def test_day_first_decided_once_for_the_whole_file():
    content = b"Date,Payee,Amount\n03/05/2024,A,-1.00\n24/06/2024,B,-2.00\n"

    rows = parse_file(content).rows

    assert [row.date for row in rows] == [datetime.date(2024, 5, 3), datetime.date(2024, 6, 24)]


def test_ambiguous_dates_resolved_by_an_override():
    content = b"Date,Payee,Amount\n03/05/2024,A,-1.00\n04/06/2024,B,-2.00\n"

    rows = parse_file(content, overrides={"date_format": "%m/%d/%Y"}).rows

    assert rows[0].date == datetime.date(2024, 3, 5)


def test_generic_guesses_are_reported_and_debit_credit_in_other_languages():
    content = (
        "Date de l'opération;Libellé;Débit;Crédit\n05/03/2024;CB CARREFOUR;23,40;\n15/03/2024;VIR SALAIRE;;2 100,00\n"
    )

    result = parse_file(content.encode())

    assert [row.amount for row in result.rows] == [Decimal("23.40"), Decimal("-2100.00")]
    assert (
        result.warnings[0]
        == "guessed columns: date=Date de l'opération, description=Libellé, debit=Débit, credit=Crédit"
    )


def test_generic_direction_column():
    content = b"Date,Description,Amount,Debit/Credit\n2024-03-05,Cafe,3.50,Debit\n2024-03-06,Salary,100.00,Credit\n"

    assert [row.amount for row in parse_file(content).rows] == [Decimal("3.50"), Decimal("-100.00")]


def test_amount_shapes_in_one_file():
    content = (
        "Date,Payee,Amount\n"
        '2024-03-01,lakh,"-1,25,000.00"\n'
        "2024-03-02,swiss,-1'234.50\n"
        "2024-03-03,trailing minus,12.50-\n"
        "2024-03-04,parentheses,(8.00)\n"
        "2024-03-05,plus,+20.00\n"
        "2024-03-06,dollar,-$5.00\n"
        "2024-03-07,euro code,EUR -12.50\n"
        "2024-03-08,rupee,₹-99.00\n"
        "2024-03-09,credit marker,45.00 CR\n"
        "2024-03-10,debit marker,45.00 DR\n"
        '2024-03-11,ambiguous,"1,234"\n'
        "2024-03-12,arabic,١٢\n"
        "2024-03-13,fullwidth,１２\n"
        "2024-03-14,three decimals,1.23456\n"
        "2024-03-15,nbsp,-1\u00a0234.50\n"
    ).encode()

    result = parse_file(content)
    amounts = {row.payee: row.amount for row in result.rows}
    errors = {error.raw["Payee"]: error for error in result.errors}

    assert amounts == {
        "lakh": Decimal("125000.00"), "swiss": Decimal("1234.50"), "trailing minus": Decimal("12.50"),
        "parentheses": Decimal("8.00"), "plus": Decimal("-20.00"), "dollar": Decimal("5.00"),
        "euro code": Decimal("12.50"), "rupee": Decimal("99.00"), "credit marker": Decimal("-45.00"),
        "debit marker": Decimal("45.00"), "nbsp": Decimal("1234.50"),
    }  # fmt: skip
    assert set(errors) == {"ambiguous", "arabic", "fullwidth", "three decimals"}
    assert errors["ambiguous"].column == "Amount" and "Ambiguous" in errors["ambiguous"].message


def test_date_shapes_and_range():
    content = (
        b"Date,Payee,Amount\n"
        b'5 Mar 2024,a,-1.00\n"Mar 5, 2024",b,-1.00\n05-Mar-2024,c,-1.00\n2024-03-05T10:00:00Z,d,-1.00\n'
        b"1899-12-31,old,-1.00\n2101-01-01,future,-1.00\n2024-02-30,impossible,-1.00\n"
    )

    result = parse_file(content)

    assert {row.date for row in result.rows} == {datetime.date(2024, 3, 5)}
    assert sorted(error.raw["Payee"] for error in result.errors) == ["future", "impossible", "old"]


def test_running_balance_mismatch_is_a_warning():
    content = b"Date,Payee,Amount,Balance\n2024-03-05,A,-10.00,90.00\n2024-03-06,B,-10.00,75.00\n"

    result = parse_file(content)

    assert len(result.rows) == 2
    assert any(warning.startswith("running balance") for warning in result.warnings)
