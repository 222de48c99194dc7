"""One fixture per built-in profile, each written from the bank's export layout as published:
- Chase card / checking: Chase "Download account activity" CSV headers as reproduced in public importers
  (Actual Budget community importers, Firefly III data-importer configs); checking rows carry a trailing comma.
- Bank of America: the summary block + "Beginning balance as of" row, as in public BofA CSV parsers.
- American Express: the 3-column download and the "additional details" layout (US City/State + Zip Code,
  UK Town/City + Postcode), references quoted with apostrophes as Amex writes them.
- Capital One: Transaction Date,Posted Date,Card No.,Description,Category,Debit,Credit with ISO dates.
- Monzo: the 18-column "Export transactions" CSV; Revolut: the account statement CSV with State and Fee;
  Starling: statement CSV with Amount (GBP)/Balance (GBP) and its Opening Balance line.
- N26: the pre-2023 layout (Payee, Amount (EUR)) and the 2024 one (Booking Date, Partner Name).
- ING NL: the "Af Bij" CSV, comma-separated (old) and semicolon with Saldo na mutatie/Tag (2020+).
- Sparkasse: CSV-CAMT V2 export, Windows-1252, dd.mm.yy; HDFC: "Delimited" statement with preamble and
  STATEMENT SUMMARY trailer, dd/mm/yy and lakh grouping; Tally: ledger/exporting.py's CSV_COLUMNS.
"""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.imports.parsers import BUILTIN_PROFILES, TALLY_CATEGORIES, Profile, detect_profile, parse_file

FIXTURES = Path(__file__).parent / "fixtures"


def parse(name, **kwargs):
    return parse_file((FIXTURES / name).read_bytes(), filename=name, **kwargs)


def by_payee(result):
    return {row.payee: row for row in result.rows}


@pytest.mark.parametrize("name", sorted(BUILTIN_PROFILES))
def test_every_builtin_profile_is_detected_from_its_fixture(name):
    result = parse(f"{name}.csv")

    assert result.profile.name == name
    assert result.detected_by == "signature"
    assert result.rows
    assert all(row.amount == row.amount.quantize(Decimal("0.01")) and row.amount for row in result.rows)


def test_chase_credit_purchases_positive_payments_and_returns_negative_with_mapped_categories():
    result = parse("chase_credit.csv")
    rows = by_payee(result)

    assert rows["WHOLE FOODS MKT #10234"].amount == Decimal("45.99")
    assert rows["WHOLE FOODS MKT #10234"].date == datetime.date(2024, 3, 5)
    assert rows["AUTOMATIC PAYMENT - THANK"].amount == Decimal("-500.00")
    assert rows["AMAZON MKTPL*RT4KL2"].amount == Decimal("-19.99")
    assert rows["STARBUCKS STORE 08812"].category == "Food & Dining"
    assert rows["SHELL OIL 57444"].category == "Transport"
    assert rows["ANNUAL MEMBERSHIP FEE"].category == "Fees & Charges"
    assert (rows["CORNER BOOKS"].bank_category, rows["CORNER BOOKS"].category) == ("Hobbies", "")
    assert rows["CORNER BOOKS"].notes == "gift"
    assert result.errors == [] and result.rows[0].row_number == 2


def test_chase_checking_trailing_comma_rows_and_newest_first_balance_check_quietly():
    result = parse("chase_checking.csv")
    rows = by_payee(result)

    assert result.errors == []
    assert rows["ACME CORP PAYROLL PPD ID: 9876"].amount == Decimal("-2500.00")
    assert rows["CHECK 1042"].amount == Decimal("250.00")
    assert rows["CHECK 1042"].external_id == "1042"
    assert rows["TRADER JOE S #552"].balance == Decimal("404.01")
    assert result.warnings == []


def test_bofa_skips_summary_preamble_and_beginning_balance_row_and_checks_the_statement():
    result = parse("bofa_checking.csv")

    assert [row.row_number for row in result.rows] == [9, 10, 11]
    assert result.skipped == 1
    assert [row.amount for row in result.rows] == [Decimal("45.50"), Decimal("-2500.00"), Decimal("1250.00")]
    assert result.statement.opening_balance == Decimal("1000.00")
    assert result.statement.closing_balance == Decimal("2204.50")
    assert result.warnings == []


def test_amex_charges_positive_and_credits_negative():
    result = parse("amex.csv")
    rows = by_payee(result)

    assert rows["UBER EATS"].amount == Decimal("23.40")
    assert rows["AUTOPAY PAYMENT - THANK YOU"].amount == Decimal("-1200.00")
    assert rows["AMAZON.COM REFUND"].amount == Decimal("-15.99")
    assert any("American Express" in warning for warning in result.warnings)


def test_amex_extended_multiline_cells_and_quoted_reference():
    result = parse("amex_extended.csv")
    netflix = by_payee(result)["NETFLIX.COM"]

    assert result.errors == []
    assert netflix.amount == Decimal("15.49")
    assert netflix.external_id == "320240740000001"
    assert netflix.notes == "NETFLIX.COM\n866-579-7172"
    assert netflix.bank_category == "Entertainment-Other Entertainment"
    assert by_payee(result)["PAYMENT RECEIVED - THANK YOU"].amount == Decimal("-300.00")


def test_amex_uk_reads_dates_day_first():
    rows = parse("amex_uk.csv").rows

    assert rows[0].date == datetime.date(2024, 3, 14)
    assert rows[1].date == datetime.date(2024, 3, 2)
    assert rows[0].currency == "GBP"


def test_capital_one_debit_and_credit_columns():
    rows = by_payee(parse("capital_one.csv"))

    assert rows["KING SOOPERS #0073"].amount == Decimal("53.76")
    assert rows["CAPITAL ONE AUTOPAY PYMT"].amount == Decimal("-250.00")
    assert rows["CAFE RIO 0050"].date == datetime.date(2024, 3, 12)


def test_monzo_name_is_payee_and_transaction_id_external():
    rows = by_payee(parse("monzo.csv"))

    assert rows["Pret A Manger"].amount == Decimal("4.20")
    assert rows["Pret A Manger"].description == "PRET A MANGER LONDON GBR"
    assert rows["Pret A Manger"].category == "Food & Dining"
    assert rows["ACME LTD"].amount == Decimal("-2150.00")
    assert rows["ACME LTD"].date == datetime.date(2024, 3, 25)
    assert rows["Lidl"].external_id == "tx_0000AbCdEf02"
    assert rows["Lidl"].notes == "weekly shop"


def test_revolut_skips_pending_declined_reverted_and_adds_the_fee():
    result = parse("revolut.csv")
    rows = by_payee(result)

    assert result.skipped == 3
    assert set(rows) == {"Tesco", "Top-Up by *1234", "Exchanged to EUR"}
    assert rows["Exchanged to EUR"].amount == Decimal("100.50")
    assert rows["Top-Up by *1234"].amount == Decimal("-200.00")
    assert rows["Tesco"].date == datetime.date(2024, 3, 2)
    assert result.warnings == []  # the running balance includes the fee


def test_starling_skips_opening_balance_line_and_maps_spending_category():
    result = parse("starling.csv")
    rows = by_payee(result)

    assert result.skipped == 1 and result.errors == []
    assert rows["Tesco"].amount == Decimal("18.65") and rows["Tesco"].category == "Groceries"
    assert rows["ACME LTD"].amount == Decimal("-1250.00")
    assert rows["TFL"].date == datetime.date(2024, 3, 13)


@pytest.mark.parametrize(("name", "payee"), [("n26.csv", "REWE Markt GmbH"), ("n26_2024.csv", "Lidl")])
def test_n26_layouts(name, payee):
    rows = parse(name).rows

    assert rows[0].payee == payee and rows[0].amount > 0
    assert rows[1].amount < 0
    assert rows[0].currency == "EUR"


@pytest.mark.parametrize("name", ["ing_nl.csv", "ing_nl_2020.csv"])
def test_ing_af_bij_direction_and_decimal_comma(name):
    rows = by_payee(parse(name))

    assert rows["Albert Heijn 1354"].amount == Decimal("23.45")
    assert rows["Werkgever BV"].amount == Decimal("-1875.00")
    assert rows["Werkgever BV"].description == "Salaris maart"
    assert rows["Albert Heijn 1354"].date.month == 3 and rows["Albert Heijn 1354"].date.day == 5


def test_sparkasse_cp1252_short_years_and_pending_skipped():
    result = parse("sparkasse.csv")
    rows = by_payee(result)

    assert result.skipped == 1
    assert rows["Stadtwerke Müllheim GmbH"].amount == Decimal("89.90")
    assert rows["Müller & Söhne KG"].amount == Decimal("-1234.56")
    assert rows["Müller & Söhne KG"].date == datetime.date(2024, 9, 23)
    assert rows["Müller & Söhne KG"].description == "Rechnung RE-2024-0815"


def test_hdfc_preamble_lakh_amounts_and_summary_trailer_ignored():
    result = parse("hdfc.csv")
    rows = by_payee(result)

    assert result.errors == []
    assert rows["SALARY SEP 2024 ACME PVT LTD"].amount == Decimal("-85000.00")
    assert rows["ATM WDL-KORAMANGALA"].amount == Decimal("10000.00")
    assert rows["ATM WDL-KORAMANGALA"].balance == Decimal("193043.75")
    assert rows["ATM WDL-KORAMANGALA"].date == datetime.date(2024, 9, 7)
    assert any("trailing" in warning for warning in result.warnings)


def test_tally_export_round_trips_sign_and_strips_formula_escape():
    rows = parse("tally.csv").rows

    assert rows[0].amount == Decimal("12.50") and rows[1].amount == Decimal("-2000.00")
    assert rows[0].payee == "=HYPERLINK(x)"
    assert rows[0].notes == "+1 lunch"
    assert rows[0].category == "Food & Dining" and rows[0].external_id == "ext-1"


def test_category_map_ignore_skips_and_unknown_label_kept():
    profile = Profile.from_dict({**BUILTIN_PROFILES["chase_credit"].to_dict(), "category_map": {"Gas": "ignore"}})

    result = parse("chase_credit.csv", profile=profile)

    assert result.detected_by == "explicit"
    assert result.skipped == 1
    assert "SHELL OIL 57444" not in by_payee(result)
    assert by_payee(result)["WHOLE FOODS MKT #10234"].category == "Groceries"


def test_profile_json_round_trip():
    for profile in BUILTIN_PROFILES.values():
        assert Profile.from_dict(profile.to_dict()) == profile


def test_detect_profile_signature_and_generic():
    assert detect_profile(["Date", "Narration", "Chq./Ref.No.", "Value Dt", "Withdrawal Amt.", "Deposit Amt.",
                           "Closing Balance"])[0].name == "hdfc"  # fmt: skip
    profile, how = detect_profile(["Buchungstag", "Empfänger", "Betrag", "Währung"])
    assert how == "generic"
    assert profile.columns == {"date": "Buchungstag", "payee": "Empfänger", "amount": "Betrag", "currency": "Währung"}


def test_tally_categories_constant():
    assert len(TALLY_CATEGORIES) == 16 and "Fees & Charges" in TALLY_CATEGORIES
