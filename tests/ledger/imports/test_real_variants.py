"""Variants that real bank exports take and the first fixtures did not: each
fixture here is small and written for the test from the standard's or the
bank's documented layout (none is copied from a bank or another project).

- MT940 (SWIFT MT940, field 61 debit/credit marks C, D, RC, RD): a file holding
  several daily statements with the same :20: reference (Dutch banks' downloads),
  a reversal of a credit (money out) and of a debit (money in), and ASN Bank's
  habit of writing the counterparty IBAN (18+ characters) where :61: allows a
  16-character customer reference.
"""

import datetime
from decimal import Decimal

from ledger.imports.parsers import parse_file

D = Decimal

# Two statements of one account, both with :20: 0000000000; the second opens where the first closed.
MT940_TWO_DAYS = b"""{1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:
:20:0000000000
:25:NL81ASNB0000000001
:28C:1/1
:60F:C240301EUR100,00
:61:2403010301D12,50NTRFNL47INGB0001234567
Bakkerij de Korenaar
:86:NL47INGB0001234567 Bakkerij de Korenaar Brood
:61:2403010301RC5,00NTRFNONREF
:86:Terugboeking bijschrijving
:62F:C240301EUR82,50
-}{5:}
{1:F01ASNBNL21XXXX0000000000}{2:O940ASNBNL21XXXXN}{3:}{4:
:20:0000000000
:25:NL81ASNB0000000001
:28C:2/1
:60F:C240302EUR82,50
:61:2403020302RD7,25NTRFNONREF
:86:Terugboeking incasso
:61:2403020302C2000,NTRFNL02ABNA0123456789
:86:NL02ABNA0123456789 Werkgever BV Salaris maart
:62F:C240302EUR2089,75
-}{5:}
"""


def test_mt940_reversal_marks_long_references_and_several_statements_with_one_reference():
    result = parse_file(MT940_TWO_DAYS, filename="asn.940")

    assert result.errors == []
    assert [(row.date, row.amount) for row in result.rows] == [
        (datetime.date(2024, 3, 1), D("12.50")),  # D: money out
        (datetime.date(2024, 3, 1), D("5.00")),  # RC, a reversed credit: money out too
        (datetime.date(2024, 3, 2), D("-7.25")),  # RD, a reversed debit: money back in
        (datetime.date(2024, 3, 2), D("-2000.00")),  # C: the salary is money in
    ]
    assert result.rows[0].external_id == "NL47INGB0001234567"  # the whole 18-character reference
    # The first opening and the last closing bracket all four rows: checked, and they add up.
    assert (result.statement.opening_balance, result.statement.closing_balance) == (D("100.00"), D("2089.75"))
    assert not any("mismatch" in warning for warning in result.warnings), result.warnings


def test_mt940_statements_that_do_not_chain_are_not_checked_against_one_pair_of_balances():
    broken = MT940_TWO_DAYS.replace(b":60F:C240302EUR82,50", b":60F:C240302EUR90,00")

    result = parse_file(broken, filename="asn.940")

    assert len(result.rows) == 4
    assert (result.statement.opening_balance, result.statement.closing_balance) == (None, None)


def test_mt940_rows_that_miss_the_closing_balance_are_flagged():
    wrong = MT940_TWO_DAYS.replace(b":62F:C240302EUR2089,75", b":62F:C240302EUR2099,75")

    result = parse_file(wrong, filename="asn.940")

    assert any(w.startswith("balance mismatch") and "2099.75" in w for w in result.warnings), result.warnings
