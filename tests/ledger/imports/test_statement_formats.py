"""OFX, QFX, QIF, CAMT.053, MT940 and XLSX. Fixtures follow the standards' own examples:
- OFX 1.0.2 SGML and 2.2 XML: the OFX 2.2 specification's STMTRS/CCSTMTRS examples (section 11.4),
  with the sloppiness seen in bank downloads (lowercase tag, unclosed STMTTRN, CRLF, DTPOSTED with a zone).
- QFX: Quicken's OFX 1.02 with INTU.BID in SONRS (a credit card statement).
- QIF: Quicken's QIF spec (!Type:Bank, D/T/U/P/M/L/N, S/$ split lines, ^ separators, D3/ 5'24 dates).
- CAMT.053.001.08: ISO 20022 bank-to-customer statement (Bal PRCD/CLBD, Ntry with NtryDtls/TxDtls,
  RltdPties Cdtr/Dbtr with Pty/Nm, RmtInf/Ustrd), as in the ISO message definition and ABN AMRO/ING samples.
- MT940: SWIFT MT940 :20:/:25:/:28C:/:60F:/:61:/:86:/:62F:, with a Dutch /NAME//REMI/ and a German ?20/?32 :86:.
- XLSX: built in the test with openpyxl.
"""

import datetime
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from ledger.imports.parsers import BUILTIN_PROFILES, ImportFileError, Profile, detect_format, iter_parse, parse_file

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name, **kwargs):
    return parse_file((FIXTURES / name).read_bytes(), filename=name, **kwargs)


def test_ofx_sgml_with_sloppy_tags_money_out_positive_fitid_and_ledger_balance():
    result = parse("bank_v102.ofx")

    assert (result.format, result.detected_by, result.profile) == ("ofx", "format", None)
    assert [(row.date, row.amount, row.payee, row.external_id) for row in result.rows] == [
        (datetime.date(2024, 3, 5), Decimal("42.17"), "WHOLE FOODS MKT", "2024030501"),
        (datetime.date(2024, 3, 8), Decimal("-2500.00"), "ACME PAYROLL", "2024030801"),  # 23:00 EST stays the 8th
        (datetime.date(2024, 3, 9), Decimal("150.00"), "CHECK 1043", "2024030901"),
    ]
    assert result.rows[0].notes == "Groceries"
    assert result.statement == result.statement.__class__(
        "USD", None, Decimal("3307.83"), "0123456789", closing_date=datetime.date(2024, 3, 10)
    )


def test_ofx_xml_v220():
    result = parse("bank_v220.ofx")

    assert [row.amount for row in result.rows] == [Decimal("8.90"), Decimal("-1200.00")]
    assert result.rows[0].date == datetime.date(2024, 3, 2)
    assert result.rows[1].notes == "Gehalt"
    assert result.statement.currency == "EUR" and result.statement.account_ref == "DE89370400440532013000"
    assert result.statement.closing_balance == Decimal("2191.10")


def test_qfx_credit_card_with_long_name():
    result = parse("card.qfx")

    assert result.format == "ofx"
    assert result.rows[0].payee == "COSTCO WHSE #0115 SEATTLE WA LONG NAME"
    assert result.rows[0].amount == Decimal("64.12")
    assert result.rows[1].amount == Decimal("-300.00")
    assert result.statement.closing_balance == Decimal("-764.12")
    assert result.statement.account_ref == "4111111111111111"


def test_unknown_ofx_version_is_refused():
    content = (FIXTURES / "bank_v102.ofx").read_bytes().replace(b"VERSION:102", b"VERSION:999")

    with pytest.raises(ImportFileError) as caught:
        parse_file(content)

    assert caught.value.code == "unknown_ofx_version"
    assert caught.value.hint


def test_qif_dates_amounts_categories_check_numbers_and_a_bad_date_row():
    result = parse("checking.qif")

    assert [(row.row_number, row.date, row.amount) for row in result.rows] == [
        (1, datetime.date(2024, 3, 5), Decimal("1234.56")),
        (2, datetime.date(2024, 3, 6), Decimal("-2500.00")),
        (3, datetime.date(2024, 3, 7), Decimal("42.17")),
    ]
    rent = result.rows[0]
    assert (rent.payee, rent.notes, rent.bank_category, rent.external_id) == (
        "Landlord LLC",
        "March rent",
        "Housing:Rent",
        "1042",
    )
    assert result.rows[2].category == "Groceries"
    assert [(error.row_number, error.column) for error in result.errors] == [(4, "D")]


def test_camt053_directions_parties_references_balances_and_pending_skipped():
    result = parse("statement.camt053.xml")
    energy, salary = result.rows

    assert result.format == "camt053"
    assert (energy.amount, energy.payee, energy.external_id) == (Decimal("37.50"), "Energie Direct BV", "ASR-2024-0001")
    assert energy.description == "Factuur 2024-77 klantnummer 123"
    assert (salary.amount, salary.payee, salary.external_id) == (Decimal("-1500.00"), "Werkgever BV", "SAL-2024-03")
    assert salary.date == datetime.date(2024, 3, 8)
    assert result.skipped == 1
    assert result.statement.opening_balance == Decimal("1000.00")
    assert result.statement.closing_balance == Decimal("2462.50")
    assert result.statement.account_ref == "NL91ABNA0417164300"
    assert result.warnings == []


@pytest.mark.parametrize("version", ["02", "13"])
def test_camt053_any_version_namespace(version):
    content = (
        (FIXTURES / "statement.camt053.xml")
        .read_bytes()
        .replace(b"camt.053.001.08", f"camt.053.001.{version}".encode())
    )

    assert len(parse_file(content).rows) == 2


def test_camt053_balance_mismatch_is_a_warning():
    content = (FIXTURES / "statement.camt053.xml").read_bytes().replace(b">2462.50<", b">2462.51<")

    result = parse_file(content)

    assert len(result.rows) == 2
    assert any(warning.startswith("balance mismatch") for warning in result.warnings)


def test_xxe_doctype_is_refused():
    content = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt>'
        b'<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><AddtlNtryInf>&e;</AddtlNtryInf></Ntry>'
        b"</Stmt></BkToCstmrStmt></Document>"
    )

    with pytest.raises(ImportFileError) as caught:
        parse_file(content)

    assert caught.value.code == "unsafe_xml"


def test_mt940_references_details_and_balances():
    result = parse("statement.mt940")
    coffee, salary = result.rows

    assert result.format == "mt940"
    assert (coffee.date, coffee.amount, coffee.payee, coffee.description) == (
        datetime.date(2024, 3, 5),
        Decimal("12.50"),
        "Coffee Corner",
        "Koffie maart",
    )
    assert coffee.external_id == "BREF123"  # customer reference NONREF -> bank reference
    assert (salary.amount, salary.payee, salary.external_id) == (Decimal("-2500.00"), "ACME GMBH", "SALARY-MAR")
    assert salary.description == "Gehalt Maerz ACME GmbH"
    assert result.statement.opening_balance == Decimal("1000.00")
    assert result.statement.closing_balance == Decimal("3487.50")
    assert result.statement.account_ref == "NL69INGB0123456789"
    assert result.warnings == []


def _workbook(rows) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_preamble_native_dates_and_numbers():
    content = _workbook([
        ["Kontoauszug"], [],
        ["Date", "Description", "Amount", "Balance"],
        [datetime.datetime(2024, 3, 5), "Coffee", -3.5, 96.5],
        [datetime.date(2024, 3, 6), "Salary", 1000, 1096.5],
    ])  # fmt: skip

    result = parse_file(content, filename="statement.xlsx")

    assert result.format == "xlsx"
    assert [(row.row_number, row.date, row.amount) for row in result.rows] == [
        (4, datetime.date(2024, 3, 5), Decimal("3.50")),
        (5, datetime.date(2024, 3, 6), Decimal("-1000.00")),
    ]
    assert result.warnings[0].startswith("guessed columns")
    assert len(result.warnings) == 1  # the running balance checks out


def test_xlsx_with_a_csv_profile_and_decimal_comma():
    content = _workbook([
        ["Datum", "Naam / Omschrijving", "Rekening", "Tegenrekening", "Code", "Af Bij", "Bedrag (EUR)",
         "Mutatiesoort", "Mededelingen"],
        ["20240305", "Albert Heijn", "NL12", "", "BA", "Af", 23.45, "Betaalautomaat", "x"],
    ])  # fmt: skip

    result = parse_file(content, profile=BUILTIN_PROFILES["ing_nl"])

    assert result.rows[0].amount == Decimal("23.45")


def test_zip_bomb_is_refused_before_reading():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (20 * 1024 * 1024))

    with pytest.raises(ImportFileError) as caught:
        parse_file(buffer.getvalue())

    assert caught.value.code == "too_large"


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("statement.csv", "Date,Amount\n")

    with pytest.raises(ImportFileError) as caught:
        parse_file(buffer.getvalue())

    assert caught.value.code == "bad_archive"


def test_statement_file_with_a_csv_profile_is_the_wrong_format():
    with pytest.raises(ImportFileError) as caught:
        parse("statement.mt940", profile=BUILTIN_PROFILES["monzo"])

    assert caught.value.code == "wrong_format_for_profile"
    assert "no profile" in caught.value.hint


@pytest.mark.parametrize(
    ("name", "expected"),
    [("bank_v102.ofx", "ofx"), ("bank_v220.ofx", "ofx"), ("card.qfx", "ofx"), ("checking.qif", "qif"),
     ("statement.camt053.xml", "camt053"), ("statement.mt940", "mt940"), ("monzo.csv", "csv")],
)  # fmt: skip
def test_detect_format(name, expected):
    assert detect_format((FIXTURES / name).read_bytes(), name) == expected


def test_iter_parse_streams_rows_and_reports_after():
    stream = iter_parse((FIXTURES / "revolut.csv").read_bytes())

    items = list(stream)

    assert stream.format == "csv" and stream.profile.name == "revolut"
    assert len(items) == 3 and stream.skipped == 3


def test_explicit_profile_round_trip_through_json_still_parses():
    profile = Profile.from_dict(BUILTIN_PROFILES["sparkasse"].to_dict())

    assert len(parse("sparkasse.csv", profile=profile).rows) == 2
