"""Variants that real bank exports take and the first fixtures did not: each
fixture here is small and written for the test from the standard's or the
bank's documented layout (none is copied from a bank or another project).

- MT940 (SWIFT MT940, field 61 debit/credit marks C, D, RC, RD): a file holding
  several daily statements with the same :20: reference (Dutch banks' downloads),
  a reversal of a credit (money out) and of a debit (money in), and ASN Bank's
  habit of writing the counterparty IBAN (18+ characters) where :61: allows a
  16-character customer reference. A German structured :86: (DFÜ-Abkommen: ?00 posting text,
  ?20-?29 purpose with SEPA EREF+/MREF+/SVWZ+, ?30 BIC, ?31 IBAN, ?32 name), as Sparkassen and
  Volksbanken write it. A :61: customer reference that every row shares (Sberbank writes X).
- OFX 1.02 (OFX spec 1.0.2, TRNAMT is an amount "with an optional decimal point" and no digit limit)
  and CAMT.053 (ISO 20022 ActiveOrHistoricCurrencyAndAmount, up to five fraction digits): money
  written with three to five decimals (-30.000, 8.850, 100.00000) or without a leading zero (-.50);
  a fraction of a cent (a money-market fund's cash line, +115.8331) is rounded and said.
- OFX 1.02 SGML with every element's end tag written where a nesting printer puts it (after the
  elements that follow), and an OFX investment statement (INVSTMTRS) whose cash movements
  (INVBANKTRAN) are a brokerage or cash-management account's transactions.
- CAMT.053 batch entries (ISO 20022 NtryDtls with Btch/NbOfTxs and one TxDtls per payment, as
  German banks book collective direct debits): each payment with its own amount is a row.
- CSV files no profile names: a checking account whose deposits outnumber its spending (so
  "mostly positive" would misread it), a card export with charges positive, Mint's export
  (unsigned amounts with a "Transaction Type" of debit/credit), and exports whose only text
  column is called Note or Remarque (hledger's sample.csv layout), and Wells Fargo's CSV download,
  which has no header row at all ("date","amount","*","check number","description"); Venmo's
  statement ("Datetime", "Amount (total)" written "- $220.00") and PayPal's activity download
  (Gross, Fee, Net: the net amount is what the balance moved by).
"""

import datetime
from decimal import Decimal

import pytest

from ledger.imports.parsers import ImportFileError, parse_file

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


def swift_lines(field: str) -> str:
    """A :86: field as banks write it: continuation lines of at most 65 characters."""
    return "\n".join(field[i : i + 65] for i in range(0, len(field), 65))


MT940_GERMAN = "\n".join([
    ":20:STARTUMSE", ":25:10050000/0123456789", ":28C:00012/001", ":60F:C240301EUR1000,00",
    ":61:2403040304DR45,90NDDTNONREF",
    swift_lines(":86:105?00FOLGELASTSCHRIFT?109248?20EREF+4711-2024-03?21MREF+M-0815?22SVWZ+Stromabschlag Maerz"
                "?30BELADEBEXXX?31DE12100500000987654321?32Stadtwerke Musterstadt"),
    ":61:2403280328CR2500,00NTRFNONREF",
    swift_lines(":86:166?00GUTSCHR. UEBERWEISUNG?109310?20SVWZ+Gehalt Maerz 2024?30DEUTDEFFXXX"
                "?31DE02100100100006820101?32ACME GmbH"),
    ":62F:C240328EUR3454,10", "",
]).encode()  # fmt: skip


def test_mt940_german_structured_details_give_payee_purpose_and_reference():
    result = parse_file(MT940_GERMAN, filename="umsaetze.sta")

    assert result.errors == []
    assert [(row.amount, row.payee, row.description, row.external_id) for row in result.rows] == [
        (D("45.90"), "Stadtwerke Musterstadt", "Stromabschlag Maerz", "4711-2024-03"),
        (D("-2500.00"), "ACME GmbH", "Gehalt Maerz 2024", ""),
    ]
    assert not any("mismatch" in warning for warning in result.warnings)


def test_mt940_a_reference_shared_by_different_transactions_is_not_their_id():
    content = "\n".join([
        ":20:1", ":25:40702810000000000001", ":28C:1/1", ":60F:C240311RUB10000,00",
        ":61:2403111103DR2402,00S   X//B-1", ":86:Payment 1",
        ":61:2403111103DR3460,00S   X//B-2", ":86:Payment 2",
        ":61:2403111103DR3575,00S   X", ":86:Payment 3",
        ":62F:C240311RUB563,00", "",
    ]).encode()  # fmt: skip

    result = parse_file(content, filename="sber.sta")

    # X would make rows 2 and 3 duplicates of row 1; the bank's own reference is the id where there is one.
    assert [(row.amount, row.external_id) for row in result.rows] == [
        (D("2402.00"), "B-1"), (D("3460.00"), "B-2"), (D("3575.00"), "")
    ]  # fmt: skip
    assert not any("mismatch" in warning for warning in result.warnings)


def test_mt940_rows_with_an_empty_86_are_named_by_their_supplementary_details_or_type_code():
    content = "\n".join([
        ":20:GENERIC", ":25:11111111", ":28C:1", ":60F:C240101EUR100,00",
        ":61:240101D10,00NCHGNONREF", ":86:",
        ":61:240102D5,00NTRFNONREF", "Paiement mobile",
        ":62F:C240102EUR85,00", "",
    ]).encode()  # fmt: skip

    result = parse_file(content, filename="generic.sta")

    assert result.errors == []
    assert [(row.amount, row.payee) for row in result.rows] == [(D("10.00"), "Charges"), (D("5.00"), "Paiement mobile")]


def test_mt940_statements_that_do_not_chain_are_not_checked_against_one_pair_of_balances():
    broken = MT940_TWO_DAYS.replace(b":60F:C240302EUR82,50", b":60F:C240302EUR90,00")

    result = parse_file(broken, filename="asn.940")

    assert len(result.rows) == 4
    assert (result.statement.opening_balance, result.statement.closing_balance) == (None, None)


def test_mt940_rows_that_miss_the_closing_balance_are_flagged():
    wrong = MT940_TWO_DAYS.replace(b":62F:C240302EUR2089,75", b":62F:C240302EUR2099,75")

    result = parse_file(wrong, filename="asn.940")

    assert any(w.startswith("balance mismatch") and "2099.75" in w for w in result.warnings), result.warnings


def ofx(transactions: str) -> bytes:
    return (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n<OFX><BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STMTRS>"
        "<CURDEF>USD<BANKACCTFROM><BANKID>121000248<ACCTID>4455<ACCTTYPE>CHECKING</BANKACCTFROM>"
        f"<BANKTRANLIST><DTSTART>20240301<DTEND>20240331{transactions}</BANKTRANLIST>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    ).encode()


def trn(fitid: str, amount: str, name: str) -> str:
    return f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240305120000<TRNAMT>{amount}<FITID>{fitid}<NAME>{name}</STMTTRN>"


def test_ofx_amounts_with_more_decimals_than_cents_or_no_leading_zero():
    content = ofx(trn("1", "-30.000", "PHARMACY") + trn("2", "-3.77000", "COFFEE") + trn("3", "-.50", "FEE")
                  + trn("4", "+1250.0", "PAYROLL"))  # fmt: skip

    result = parse_file(content, filename="bank.ofx")

    assert result.errors == []
    assert [row.amount for row in result.rows] == [D("30.00"), D("3.77"), D("0.50"), D("-1250.00")]


def test_an_ofx_amount_with_a_fraction_of_a_cent_is_rounded_and_the_preview_says_so():
    result = parse_file(ofx(trn("1", "-3.775", "ODD") + trn("2", "-1.00", "OK") + trn("3", "+115.8331", "MMF")),
                        filename="bank.ofx")  # fmt: skip

    assert result.errors == []
    assert [row.amount for row in result.rows] == [D("3.78"), D("1.00"), D("-115.83")]  # half to even
    assert "rounded 2 amount(s) with fractions of a cent to cents (rows 1, 3)" in result.warnings


# The header block of an OFX 1.02 SGML download (OFX spec 1.0.2, section 2.2).
OFX_102_HEADER = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

"""

# OFX 1.02 as a nesting pretty-printer writes it: every element gets an end tag, placed after the
# elements that follow it (as in American Express's "Quicken Web Connect" downloads).
OFX_NESTED_END_TAGS = (
    OFX_102_HEADER
    + b"""<OFX>
 <SIGNONMSGSRSV1>
  <SONRS>
   <STATUS>
    <CODE>0
     <SEVERITY>INFO
     </SEVERITY>
    </CODE>
   </STATUS>
   <DTSERVER>20240320083600.212[-7:MST]
   </DTSERVER>
  </SONRS>
 </SIGNONMSGSRSV1>
 <CREDITCARDMSGSRSV1>
  <CCSTMTTRNRS>
   <TRNUID>0
    <STATUS>
     <CODE>0
      <SEVERITY>INFO
      </SEVERITY>
     </CODE>
    </STATUS>
    <CCSTMTRS>
     <CURDEF>USD
      <CCACCTFROM>
       <ACCTID>379700001111222
       </ACCTID>
      </CCACCTFROM>
      <BANKTRANLIST>
       <DTSTART>20240301
        <DTEND>20240320
         <STMTTRN>
          <TRNTYPE>DEBIT
           <DTPOSTED>20240304000000.000[-7:MST]
            <TRNAMT>-143.94
             <FITID>320240640255184014
              <NAME>WHOLEFDS MKT
               <MEMO></MEMO>
              </NAME>
             </FITID>
            </TRNAMT>
           </DTPOSTED>
          </TRNTYPE>
         </STMTTRN>
         <STMTTRN>
          <TRNTYPE>CREDIT
           <DTPOSTED>20240312000000.000[-7:MST]
            <TRNAMT>500.00
             <FITID>320240720255184015
              <NAME>AUTOPAY PAYMENT - THANK YOU
              </NAME>
             </FITID>
            </TRNAMT>
           </DTPOSTED>
          </TRNTYPE>
         </STMTTRN>
        </DTEND>
       </DTSTART>
      </BANKTRANLIST>
     </CURDEF>
    </CCSTMTRS>
   </TRNUID>
  </CCSTMTTRNRS>
 </CREDITCARDMSGSRSV1>
</OFX>
"""
)


def test_ofx_sgml_with_end_tags_for_elements_written_out_of_place():
    result = parse_file(OFX_NESTED_END_TAGS, filename="amex.qfx")

    assert result.errors == []
    assert [(row.date, row.amount, row.payee, row.external_id) for row in result.rows] == [
        (datetime.date(2024, 3, 4), D("143.94"), "WHOLEFDS MKT", "320240640255184014"),  # a charge: money out
        (datetime.date(2024, 3, 12), D("-500.00"), "AUTOPAY PAYMENT - THANK YOU", "320240720255184015"),
    ]
    assert (result.statement.currency, result.statement.account_ref) == ("USD", "379700001111222")


# OFX 1.02 investment statement (OFX spec section 13.9.2: INVSTMTRS, INVTRANLIST with INVBANKTRAN
# and a BUYMF), as brokerages' cash-management accounts download it.
OFX_INVESTMENT = (
    OFX_102_HEADER
    + b"""<OFX>
<INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<INVSTMTRS><DTASOF>20240331<CURDEF>USD<INVACCTFROM><BROKERID>fidelity.com<ACCTID>Z12345678</INVACCTFROM>
<INVTRANLIST><DTSTART>20240301<DTEND>20240331
<INVBANKTRAN><STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240305<TRNAMT>-64.12<FITID>X1<NAME>COSTCO WHSE #0115</STMTTRN>
<SUBACCTFUND>CASH</INVBANKTRAN>
<INVBANKTRAN><STMTTRN><TRNTYPE>DIRECTDEP<DTPOSTED>20240315<TRNAMT>3100.00<FITID>X2<NAME>ACME CORP PAYROLL</STMTTRN>
<SUBACCTFUND>CASH</INVBANKTRAN>
<BUYMF><INVBUY><INVTRAN><FITID>X3<DTTRADE>20240318</INVTRAN><SECID><UNIQUEID>31617H102<UNIQUEIDTYPE>CUSIP</SECID>
<UNITS>10<UNITPRICE>100<TOTAL>-1000<SUBACCTSEC>CASH<SUBACCTFUND>CASH</INVBUY><BUYTYPE>BUY</BUYMF>
</INVTRANLIST>
<INVBAL><AVAILCASH>2035.88<MARGINBALANCE>0<SHORTBALANCE>0</INVBAL>
</INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1>
</OFX>
"""
)


def test_ofx_investment_statement_imports_its_cash_movements_and_says_what_it_left_out():
    result = parse_file(OFX_INVESTMENT, filename="brokerage.ofx")

    assert [(row.amount, row.payee, row.external_id) for row in result.rows] == [
        (D("64.12"), "COSTCO WHSE #0115", "X1"),
        (D("-3100.00"), "ACME CORP PAYROLL", "X2"),
    ]
    assert result.statement.account_ref == "Z12345678"
    assert any(w.startswith("not imported: 1 investment transaction(s)") for w in result.warnings), result.warnings


def test_ofx_investment_statement_without_cash_movements_is_refused_saying_why():
    trades_only = OFX_INVESTMENT.replace(b"<INVBANKTRAN>", b"<XINV>").replace(b"</INVBANKTRAN>", b"</XINV>")
    start, end = trades_only.index(b"<XINV>"), trades_only.rindex(b"</XINV>") + len(b"</XINV>")
    trades_only = trades_only[:start] + trades_only[end:]

    with pytest.raises(ImportFileError) as caught:
        parse_file(trades_only, filename="brokerage.ofx")

    assert caught.value.code == "no_rows"
    assert "investment statement with no cash movements" in caught.value.message


CAMT_FIVE_DECIMALS = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">
 <BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-03-31T20:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S1</Id><Acct><Id><IBAN>CH9300762011623852957</IBAN></Id><Ccy>CHF</Ccy></Acct>
   <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">100.00000</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Dt><Dt>2024-03-01</Dt></Dt></Bal>
   <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="CHF">91.15000</Amt><CdtDbtInd>CRDT</CdtDbtInd>
    <Dt><Dt>2024-03-31</Dt></Dt></Bal>
   <Ntry><Amt Ccy="CHF">8.850</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
    <BookgDt><Dt>2024-03-04</Dt></BookgDt><AcctSvcrRef>R1</AcctSvcrRef><AddtlNtryInf>Migros</AddtlNtryInf></Ntry>
  </Stmt></BkToCstmrStmt></Document>
"""


def test_camt_amounts_with_three_and_five_decimals():
    result = parse_file(CAMT_FIVE_DECIMALS, filename="camt.xml")

    assert result.errors == []
    assert [(row.amount, row.currency) for row in result.rows] == [(D("8.85"), "CHF")]
    assert (result.statement.opening_balance, result.statement.closing_balance) == (D("100.00"), D("91.15"))
    assert not any("mismatch" in warning for warning in result.warnings)


def csv_rows(text: str):
    result = parse_file(text.encode(), filename="export.csv")
    assert result.errors == [], result.errors
    return result, [(row.payee, row.amount) for row in result.rows]


def test_a_checking_export_with_more_deposits_than_spending_is_read_by_what_its_rows_say():
    result, rows = csv_rows(
        "Posting Date,Details,Amount\n"
        "03/01/2024,MOBILE DEPOSIT REF 1001,250.00\n"
        "03/02/2024,MOBILE DEPOSIT REF 1002,120.00\n"
        "03/04/2024,ATM WITHDRAWAL 0412 MAIN ST,-60.00\n"
        "03/08/2024,ACME CORP PAYROLL,2100.00\n"
        "03/15/2024,ACME CORP PAYROLL,2100.00\n"
        "03/20/2024,ZELLE FROM J SMITH,40.00\n"
    )

    assert rows == [
        ("MOBILE DEPOSIT REF 1001", D("-250.00")),
        ("MOBILE DEPOSIT REF 1002", D("-120.00")),
        ("ATM WITHDRAWAL 0412 MAIN ST", D("60.00")),
        ("ACME CORP PAYROLL", D("-2100.00")),
        ("ACME CORP PAYROLL", D("-2100.00")),
        ("ZELLE FROM J SMITH", D("-40.00")),
    ]
    assert any("guessed sign=negative_is_out (5 of 5 rows" in warning for warning in result.warnings), result.warnings


def test_a_card_export_with_charges_positive_and_few_rows_is_read_by_its_payment_row():
    _result, rows = csv_rows(
        "Date,Payee,Amount\n"
        "2024-03-02,PAYMENT RECEIVED - THANK YOU,-450.00\n"
        "2024-03-03,DEBIT CARD PURCHASE SHELL OIL,41.20\n"
        "2024-03-05,NETFLIX.COM,15.49\n"
    )

    # The payment is money in and the charges money out: positive is out in this file.
    assert rows == [
        ("PAYMENT RECEIVED - THANK YOU", D("-450.00")),
        ("DEBIT CARD PURCHASE SHELL OIL", D("41.20")),
        ("NETFLIX.COM", D("15.49")),
    ]


def test_mint_style_unsigned_amounts_take_their_direction_from_a_debit_credit_column():
    result, rows = csv_rows(
        '"Date","Description","Original Description","Amount","Transaction Type","Category","Account Name"\n'
        '"3/10/2024","Starbucks","STARBUCKS STORE 12345","4.85","debit","Coffee Shops","Visa"\n'
        '"3/12/2024","Card Payment","PAYMENT THANK YOU","300.00","credit","Credit Card Payment","Visa"\n'
        '"3/14/2024","Safeway","SAFEWAY #1234","62.10","debit","Groceries","Visa"\n'
    )

    assert rows == [("Starbucks", D("4.85")), ("Card Payment", D("-300.00")), ("Safeway", D("62.10"))]
    assert any("direction=Transaction Type" in warning for warning in result.warnings), result.warnings


def test_an_export_whose_only_text_column_is_a_note_or_a_remarque():
    _result, english = csv_rows('"Date","Note","Amount"\n"2024/3/22","DEPOSIT","50.00"\n"2024/3/23","COFFEE","-4.50"\n')
    _result, french = csv_rows('"Date","Remarque","Montant"\n"2024/3/22","DÉPÔT","50,00"\n"2024/3/23","CAFÉ","-4,50"\n')

    assert english == [("DEPOSIT", D("-50.00")), ("COFFEE", D("4.50"))]
    assert french == [("DÉPÔT", D("-50.00")), ("CAFÉ", D("4.50"))]


def test_a_csv_without_a_header_row_is_mapped_by_what_its_columns_hold():
    result, rows = csv_rows(
        '"12/04/2024","-12.07","*","","CHECK CRD PURCHASE 12/02 CORNER CAFE"\n'
        '"12/04/2024","-789.00","*","2392","CHECK # 2392"\n'
        '"12/16/2024","2150.00","*","","ACME PAYROLL DIRECT DEP"\n'
        '"12/18/2024","-150.00","*","","RECURRING TRANSFER TO SAVINGS"\n'
    )

    assert rows == [
        ("CHECK CRD PURCHASE 12/02 CORNER CAFE", D("12.07")),
        ("CHECK # 2392", D("789.00")),
        ("ACME PAYROLL DIRECT DEP", D("-2150.00")),
        ("RECURRING TRANSFER TO SAVINGS", D("150.00")),
    ]
    assert [row.row_number for row in result.rows] == [1, 2, 3, 4]  # no header: the first line is row 1
    assert result.rows[2].date == datetime.date(2024, 12, 16)
    assert result.warnings[0].startswith("guessed columns: (no header row; by content) date=column 1, amount=column 2")


def test_venmo_and_paypal_layouts_find_their_date_and_amount_columns():
    _result, venmo = csv_rows(
        '" ID","Datetime","Type","Status","Note","From","To","Amount (total)","Amount (fee)"\n'
        '"111","2024-04-25T03:15:53","Payment","Complete","Tutoring","Me","Tom J","- $220.00",""\n'
        '"112","2024-04-26T10:00:00","Payment","Complete","Rent share","Sally S","Me","+ $1,150.00",""\n'
    )
    _result, paypal = csv_rows(
        '"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net","Balance"\n'
        '"10/01/2024","03:46:20","PDT","Calm Radio","Subscription Payment","Completed","USD","-6.99","0.00",'
        '"-6.99","13.01"\n'
        '"10/15/2024","09:12:00","PDT","Jane Doe","General Payment","Completed","USD","50.00","-1.75","48.25",'
        '"61.26"\n'
    )

    assert venmo == [("Tutoring", D("220.00")), ("Rent share", D("-1150.00"))]
    assert paypal == [("Calm Radio", D("6.99")), ("Jane Doe", D("-48.25"))]


def test_a_file_with_neither_a_header_nor_dated_rows_is_still_refused_with_the_header_hint():
    with pytest.raises(ImportFileError) as caught:
        parse_file(b"hello,world\nfoo,bar\n", filename="notes.csv")

    assert caught.value.code == "bad_header"


def camt_entry(total: str, indicator: str, reference: str, transactions: str) -> str:
    return (
        f'<Ntry><Amt Ccy="EUR">{total}</Amt><CdtDbtInd>{indicator}</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>2024-03-04</Dt></BookgDt><AcctSvcrRef>{reference}</AcctSvcrRef>"
        f"<NtryDtls><Btch><NbOfTxs>2</NbOfTxs></Btch>{transactions}</NtryDtls></Ntry>"
    )


def camt_payment(amount: str | None, debtor: str, end_to_end: str, purpose: str) -> str:
    amount_xml = f'<AmtDtls><TxAmt><Amt Ccy="EUR">{amount}</Amt></TxAmt></AmtDtls>' if amount else ""
    return (
        f"<TxDtls><Refs><EndToEndId>{end_to_end}</EndToEndId></Refs>{amount_xml}"
        f"<RltdPties><Dbtr><Nm>{debtor}</Nm></Dbtr></RltdPties><RmtInf><Ustrd>{purpose}</Ustrd></RmtInf></TxDtls>"
    )


def camt(entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04"><BkToCstmrStmt>'
        "<GrpHdr><MsgId>M1</MsgId><CreDtTm>2024-03-04T22:00:00</CreDtTm></GrpHdr><Stmt><Id>S1</Id>"
        "<Acct><Id><IBAN>DE14740618130000033626</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    ).encode()


def test_camt_batch_entry_is_one_row_per_payment_when_the_payments_add_up():
    content = camt(
        camt_entry("3.45", "CRDT", "2024030400001", camt_payment("2.25", "Anna Berg", "E2E-1", "Beitrag Maerz")
                   + camt_payment("1.20", "Jonas Wolf", "NOTPROVIDED", "Beitrag Maerz"))
        + camt_entry("5.00", "CRDT", "2024030400002", camt_payment(None, "Eva Lang", "E2E-3", "Spende")
                     + camt_payment(None, "Paul Kern", "E2E-4", "Spende"))
        + camt_entry("9.00", "CRDT", "2024030400003", camt_payment("4.00", "Ida Roth", "E2E-5", "Beitrag")
                     + camt_payment("4.00", "Max Vogt", "E2E-6", "Beitrag"))
    )  # fmt: skip

    result = parse_file(content, filename="camt.xml")

    assert result.errors == []
    assert [(row.row_number, row.amount, row.payee, row.external_id) for row in result.rows] == [
        (1, D("-2.25"), "Anna Berg", "E2E-1"),  # money in, each payer a row
        (2, D("-1.20"), "Jonas Wolf", "2024030400001/2"),  # no reference of its own: the entry's, numbered
        (3, D("-5.00"), "Eva Lang", "2024030400002"),  # payments without amounts: the entry stays one row
        (4, D("-9.00"), "Ida Roth", "2024030400003"),  # payments that do not add up: one row too
    ]
    assert sum(row.amount for row in result.rows) == D("-17.45")
