"""Statement files as banks really write them, with no profile chosen: the
fixtures in fixtures/real/ follow each bank's published export layout and
carry what real exports carry:
- chase_credit_bom.csv: Chase card CSV re-saved by Excel as "CSV UTF-8" (a BOM, CRLF).
- volksbank_latin1.csv: a German Volksbank "Umsatzanzeige": ISO-8859-1, a preamble block before the
  header, Buchungstag;Valuta;Auftraggeber/Zahlungsempfänger;Verwendungszweck;Währung;Betrag, DD.MM.YYYY,
  1.234,56, and the Anfangssaldo/Endsaldo trailer after a blank line.
- uk_current_dmy.csv: a Barclays-style current account CSV (Number,Date,Account,Amount,Subcategory,Memo),
  DD/MM/YYYY where only row 5 (25/03) tells the order.
- credit_union_cp1252.csv: a US credit union download in Windows-1252: quoted cells, $ amounts with
  parentheses for money out, a memo spanning two lines, a running balance and a "Total" trailer.
- india_crdr.csv: an Indian bank CSV (Kotak/ICICI style): DD/MM/YY, lakh grouping, DR/CR suffixes.
- trailing_minus.csv: an SAP-style export (Swiss banks, German ERPs): semicolons, 12.34- for money out.
- split_debit_credit.csv: a card export with Debit and Credit columns, the unused one an empty cell.
"""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.imports.parsers import parse_file
from tests.ledger.factories import AccountFactory

REAL = Path(__file__).parent / "fixtures" / "real"
FIXTURES = Path(__file__).parent / "fixtures"
D = Decimal


def parse(name, content=None, **kwargs):
    return parse_file(content if content is not None else (REAL / name).read_bytes(), filename=name, **kwargs)


def rows_of(result):
    return [(row.row_number, row.date, row.amount, row.payee) for row in result.rows]


def test_a_utf8_bom_does_not_hide_the_header_from_its_bank_profile():
    result = parse("chase_credit_bom.csv")

    assert (result.profile.name, result.detected_by) == ("chase_credit", "signature")
    assert rows_of(result) == [
        (2, datetime.date(2024, 3, 4), D("5.25"), "STARBUCKS STORE 08812"),
        (3, datetime.date(2024, 3, 12), D("-500.00"), "AUTOMATIC PAYMENT - THANK"),
        (4, datetime.date(2024, 3, 25), D("82.10"), "AMAZON MKTPL*2K4"),
    ]


def test_latin1_preamble_european_amounts_and_the_balance_trailer():
    result = parse("volksbank_latin1.csv")

    assert result.detected_by == "generic"
    assert rows_of(result) == [
        (6, datetime.date(2024, 3, 1), D("3.50"), "Bäckerei Müller"),
        (7, datetime.date(2024, 3, 4), D("1234.56"), "Hausverwaltung Groß"),
        (8, datetime.date(2024, 3, 28), D("-2500.00"), "ACME GmbH"),
    ]
    assert [row.description for row in result.rows] == ["Brötchen", "Miete März", "Gehalt März"]
    assert {row.currency for row in result.rows} == {"EUR"}  # Währung, not Valuta (the value date)
    assert result.errors == []
    # Anfangssaldo/Endsaldo are the statement's balances, not transactions, and the rows add up to them.
    assert (result.statement.opening_balance, result.statement.closing_balance) == (D("1000.00"), D("2261.94"))
    assert result.skipped == 2
    assert not any("mismatch" in warning for warning in result.warnings)


def test_a_statement_whose_rows_do_not_reach_its_closing_balance_is_flagged():
    content = (REAL / "volksbank_latin1.csv").read_bytes().replace(b"2.261,94", b"2.361,94")

    result = parse("volksbank_latin1.csv", content)

    assert any(w.startswith("balance mismatch") and "2361.94" in w for w in result.warnings), result.warnings


def test_day_first_order_is_decided_over_the_whole_file():
    result = parse("uk_current_dmy.csv")

    assert [row.date for row in result.rows] == [
        datetime.date(2024, 3, 1), datetime.date(2024, 3, 2), datetime.date(2024, 3, 11), datetime.date(2024, 3, 25),
    ]  # fmt: skip
    assert [row.amount for row in result.rows] == [D("3.20"), D("45.00"), D("-2500.00"), D("12.99")]
    assert result.errors == []


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        # A bare Date,Description,Amount header looks like Amex (MM/DD/YYYY) until row 4 says otherwise.
        (("01/02/2024", "03/04/2024", "25/04/2024"), [(2, 1), (4, 3), (4, 25)]),
        (("01/02/2024", "03/04/2024", "04/25/2024"), [(1, 2), (3, 4), (4, 25)]),
        (("01.02.2024", "13.04.2024"), [(2, 1), (4, 13)]),
        (("01/02/24", "13/04/24"), [(2, 1), (4, 13)]),
        (("2024-02-01", "2024-04-13"), [(2, 1), (4, 13)]),
    ],
)
def test_date_layouts_with_the_order_settled_by_any_row(dates, expected):
    content = "Date,Description,Amount\n" + "".join(f"{d},Shop {i},-1.00\n" for i, d in enumerate(dates))

    result = parse("dates.csv", content.encode())

    assert result.errors == []
    assert [(row.date.month, row.date.day) for row in result.rows] == expected


def test_cp1252_dollars_parentheses_a_two_line_memo_and_a_total_trailer():
    result = parse("credit_union_cp1252.csv")

    assert [(row.amount, row.payee, row.balance) for row in result.rows] == [
        (D("12.34"), "CAFÉ RIO #12", D("1987.66")),
        (D("-2500.00"), "PAYROLL ACME Direct deposit March", D("4487.66")),  # the memo's line break is a space
        (D("1200.00"), "RENT – MAPLE APTS Check 1043", D("3287.66")),
    ]
    assert result.errors == []
    assert any(w.startswith("ignored 1 trailing line") for w in result.warnings)
    assert not any(w.startswith("running balance") for w in result.warnings)  # the balance column checks out


def test_a_running_balance_that_does_not_follow_the_amounts_is_flagged():
    content = (REAL / "credit_union_cp1252.csv").read_bytes().replace(b"$3,287.66", b"$3,187.66")

    result = parse("credit_union_cp1252.csv", content)

    assert any(w.startswith("running balance does not follow") and "row 4" in w or "rows 4" in w
               for w in result.warnings), result.warnings  # fmt: skip


def test_dr_cr_suffixes_lakh_grouping_and_short_years():
    result = parse("india_crdr.csv")

    assert [(row.date, row.amount) for row in result.rows] == [
        (datetime.date(2024, 3, 1), D("450.00")),
        (datetime.date(2024, 3, 5), D("-125000.00")),
        (datetime.date(2024, 3, 15), D("2000.00")),
    ]
    assert result.errors == []


def test_trailing_minus_is_money_out():
    result = parse("trailing_minus.csv")

    assert [(row.payee, row.amount) for row in result.rows] == [
        ("Migros Zuerich", D("12.34")), ("Lohn Maerz", D("-4500.00")), ("SBB Ticket", D("1234.50")),
    ]  # fmt: skip


def test_split_debit_and_credit_columns_with_empty_cells():
    result = parse("split_debit_credit.csv")

    assert [(row.payee, row.amount) for row in result.rows] == [
        ("SHELL OIL 5521", D("48.20")), ("ONLINE PAYMENT", D("-300.00")), ("WHOLE FOODS", D("63.75")),
    ]  # fmt: skip
    assert result.errors == []


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('"$1,234.56"', D("-1234.56")),
        ("-$20.00", D("20.00")),
        ("$-20.00", D("20.00")),
        ("£5.00", D("-5.00")),
        ('"€12,34"', D("-12.34")),
        ("USD 7.00", D("-7.00")),
        ("(12.34)", D("12.34")),
        ("12.34-", D("12.34")),
        ("12.34 CR", D("-12.34")),
        ("12.34DR", D("12.34")),
    ],
)
def test_amount_notations_in_a_bank_file_where_money_out_is_negative(cell, expected):
    result = parse("amounts.csv", f"Date,Payee,Amount\n2024-03-01,Shop,{cell}\n".encode())

    assert [row.amount for row in result.rows] == [expected]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("statement.mt940", b":62F:C240306EUR3487,50", b":62F:C240306EUR3387,50"),
        ("statement.camt053.xml", b'<Amt Ccy="EUR">2462.50</Amt>', b'<Amt Ccy="EUR">2462.00</Amt>'),
        ("volksbank_latin1.csv", b"2.261,94", b"2.361,94"),
    ],
)
def test_the_preview_flags_a_file_that_does_not_add_up(auth_client, user, name, good, bad):
    account = AccountFactory(user=user, name="Giro", kind="checking", currency="EUR")
    content = ((REAL if name.endswith(".csv") else FIXTURES) / name).read_bytes()
    assert content.count(good) == 1
    bad_content = content.replace(good, bad)

    fine = auth_client.post("/api/v1/imports", {"file": SimpleUploadedFile(name, content), "account": str(account.id)},
                            format="multipart")  # fmt: skip
    flagged = auth_client.post("/api/v1/imports", {"file": SimpleUploadedFile(name, bad_content),
                                                   "account": str(account.id)}, format="multipart")  # fmt: skip

    assert fine.status_code == flagged.status_code == 201, (fine.json(), flagged.json())
    assert not any(w.startswith("balance mismatch") for w in fine.json()["warnings"]), fine.json()["warnings"]
    assert any(w.startswith("balance mismatch") for w in flagged.json()["warnings"]), flagged.json()["warnings"]


SPENDING_LOG = (
    "date,amount,merchant\n"
    "2026-11-03,72.40,AMZN Mktp US\n2026-11-05,18.99,AMAZON.COM\n2026-11-09,129.00,AMAZON MARKETPLACE\n"
    "2026-11-12,54.10,WHOLE FOODS MARKET\n2026-11-20,61.00,AMZN Digital\n2026-11-21,-20.00,REFUND\n"
)


def test_a_file_no_profile_names_with_mostly_positive_amounts_reads_positive_as_money_out():
    # Five charges and one refund: money out outnumbers money in, so positive is out.
    result = parse("spending.csv", SPENDING_LOG.encode())

    assert [row.amount for row in result.rows] == [Decimal(v) for v in "72.40 18.99 129.00 54.10 61.00 -20.00".split()]
    assert result.profile.sign == "positive_is_out"
    assert result.warnings == [
        "guessed columns: date=date, amount=amount, payee=merchant; guessed sign=positive_is_out "
        "(5 positive, 1 negative amounts; most rows of a statement are money out; if that is wrong, "
        "choose the other sign)"
    ]


def test_mostly_negative_amounts_or_too_few_rows_keep_the_banks_habit_and_a_chosen_sign_wins():
    negative = parse("bank.csv", b"date,amount,merchant\n2026-11-03,-72.40,Shop\n2026-11-05,-18.99,Cafe\n"
                     b"2026-11-09,-129.00,Store\n2026-11-20,2500.00,Salary\n2026-11-21,20.00,Refund\n")  # fmt: skip
    short = parse("short.csv", b"date,amount,merchant\n2026-11-03,72.40,Shop\n2026-11-04,8.00,Cafe\n")
    chosen = parse("spending.csv", SPENDING_LOG.encode(), overrides={"sign": "negative_is_out"})

    assert negative.profile.sign == "negative_is_out"
    assert [row.amount for row in negative.rows] == [D("72.40"), D("18.99"), D("129.00"), D("-2500.00"), D("-20.00")]
    assert [row.amount for row in short.rows] == [Decimal("-72.40"), Decimal("-8.00")]
    assert "guessed sign=negative_is_out (2 positive, 0 negative" in short.warnings[0]
    assert chosen.rows[0].amount == Decimal("-72.40")
    assert "guessed sign" not in chosen.warnings[0]
