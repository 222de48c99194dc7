"""Large statements are parsed as streams. An OFX bank or card statement's transactions are
tokenized a chunk at a time while ofxtools reads the rest of the document; the result must be
exactly what ofxtools gives reading the whole document (rows, row errors, statement, warnings).
CAMT.053 entries are cleared as they are read, CSV rows read one by one: the parse's peak memory
must not grow with the file."""

import datetime
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.imports.parsers import ImportFileError, iter_parse, ofx, ofx_stream
from tests.ledger.imports.test_real_variants import OFX_INVESTMENT, OFX_NESTED_END_TAGS, trn
from tests.ledger.imports.test_real_variants import ofx as ofx_sgml

FIXTURES = Path(__file__).parent / "fixtures"
V102 = (FIXTURES / "bank_v102.ofx").read_bytes()
V220 = (FIXTURES / "bank_v220.ofx").read_bytes()
SAVINGS = (
    b"<STMTTRNRS><TRNUID>2<STMTRS><CURDEF>EUR<BANKACCTFROM><BANKID>9<ACCTID>2<ACCTTYPE>SAVINGS</BANKACCTFROM>"
    b"<BANKTRANLIST><DTSTART>20240301<DTEND>20240310"
    b"<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240302<TRNAMT>5.00<FITID>S1<NAME>INTEREST</STMTTRN>"
    b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20240303<TRNAMT>-1.00<FITID>S2<PAYEE><NAME>NESTED PAYEE<ADDR1>x</PAYEE>"
    b"<CURRENCY>GBP</STMTTRN></BANKTRANLIST><LEDGERBAL><BALAMT>4.00<DTASOF>20240310</LEDGERBAL></STMTRS>"
    b"</STMTTRNRS>"
)


def lower_tags(content: bytes) -> bytes:
    return re.sub(rb"<(/?)([A-Z]+)>", lambda m: b"<" + m.group(1) + m.group(2).lower() + b">", content)


def check_numbers_only_late() -> bytes:
    # CHECKNUM carries a value only in the last transaction: the earlier empty pairs still go, file-wide.
    early = "".join(trn(str(n), "-1.00", f"SHOP {n}").replace("</STMTTRN>", "<CHECKNUM></CHECKNUM></STMTTRN>")
                    for n in range(30))  # fmt: skip
    return ofx_sgml(early + trn("99", "-2.00", "CHECK").replace("</STMTTRN>", "<CHECKNUM>777</CHECKNUM></STMTTRN>"))


OFX_FILES = {
    "bank_v102": V102,
    "bank_v220": V220,
    "card_qfx": (FIXTURES / "card.qfx").read_bytes(),
    "nested_end_tags": OFX_NESTED_END_TAGS,
    "lower_case_tags": lower_tags(V102),
    "one_lower_case_tag": V102.replace(b"<MEMO>Groceries", b"<memo>Groceries<dtuser>\n20240304101010"),
    "two_statements": V102.replace(b"</STMTTRNRS>", b"</STMTTRNRS>" + SAVINGS),
    "leading_blank_lines": b"\r\n\r\n  " + V102,
    "cp1252": V102.replace(b"WHOLE FOODS MKT", "CAFÉ MÜLLER".encode("cp1252")),
    "times_and_blanks_in_dates": V102.replace(b"<DTPOSTED>20240309", b"<DTPOSTED>\n 20240309 "),
    "cdata_name": V220.replace(b"<NAME>", b"<NAME><![CDATA[", 1).replace(b"</NAME>", b"]]></NAME>", 1),
    "decimals_and_a_bad_amount": ofx_sgml(
        trn("1", "-30.000", "PHARMACY")
        + trn("2", "-3.775", "ODD")
        + trn("3", "x", "BAD")
        + trn("4", "+1250.0", "PAYROLL")
    ),  # fmt: skip
    "check_numbers_only_late": check_numbers_only_late(),
    # Shapes at the edge of a flat transaction, where ofxtools' tokenizer decides what is an element:
    "blank_value_opens_an_aggregate": ofx_sgml(trn("1", "-1.00", "A").replace("<NAME>", "<MEMO>   <NAME>")),
    "blank_element_pair_in_xml": V220.replace(b"</NAME>", b"</NAME><MEMO>  </MEMO><SIC></SIC>", 1),
    "dotted_and_spaced_tags": ofx_sgml(trn("1", "-1.00", "A").replace("<NAME>", "<INTU.BID>77<X Y>z<NAME>")),
    "text_after_a_transaction_tag": ofx_sgml(trn("1", "-1.00", "A").replace("<STMTTRN>", "<STMTTRN>odd")),
    "end_tag_of_another_element": V220.replace(b"</NAME>", b"</MEMO>", 1),  # refused by both
    "payee_aggregate": ofx_sgml(trn("1", "-1.00", "A").replace("<NAME>A", "<PAYEE><NAME>SHOP<ADDR1>1 Main</PAYEE>")),
}
BROKEN_OFX = {
    "tail_text_after_an_end_tag": V220.replace(b"</NAME>", b"</NAME>junk", 1),
    "tail_text_after_a_transaction": V220.replace(b"</STMTTRN>", b"</STMTTRN>junk", 1),
}


def outcome(parse) -> tuple:
    items = list(parse)
    return items, parse.statement, parse.warnings, parse.skipped


def ofx_outcome(content: bytes, *, stream: bool = True) -> tuple:
    """What parsing content gives: its rows and more, or the code of the file's error."""
    try:
        return outcome(ofx.parse_ofx(content, None, stream=stream))
    except ImportFileError as exc:  # the whole document fails at once, the streamed one as it gets there
        return ("refused", exc.code)


@pytest.fixture
def chunks_read(monkeypatch):
    """The chunks of transactions the streamed OFX path read."""
    calls = []
    transactions = ofx._ChunkReader.transactions

    def counted(self, text):
        calls.append(text)
        return transactions(self, text)

    monkeypatch.setattr(ofx._ChunkReader, "transactions", counted)
    return calls


@pytest.fixture
def tokenized(monkeypatch):
    """The chunks that went through ofxtools' tokenizer (not flat transactions only)."""
    calls = []
    tree_of_chunk = ofx._tree_of_chunk

    def counted(text):
        calls.append(text)
        return tree_of_chunk(text)

    monkeypatch.setattr(ofx, "_tree_of_chunk", counted)
    return calls


@pytest.mark.parametrize("chunk_bytes", [1, 200, ofx_stream.CHUNK_BYTES])
@pytest.mark.parametrize("name", sorted(OFX_FILES))
def test_streamed_ofx_gives_exactly_what_ofxtools_gives_reading_the_whole_file(
    name, chunk_bytes, monkeypatch, chunks_read
):
    content = OFX_FILES[name]
    monkeypatch.setattr(ofx_stream, "CHUNK_BYTES", chunk_bytes)

    whole = ofx_outcome(content, stream=False)
    streamed = ofx_outcome(content)

    assert chunks_read, "the file was not streamed"
    assert streamed == whole
    assert streamed[0], "no rows"


@pytest.mark.parametrize(
    ("name", "flat"),
    [("bank_v220", True), ("card_qfx", True), ("decimals_and_a_bad_amount", True), ("payee_aggregate", False),
     ("blank_value_opens_an_aggregate", False), ("bank_v102", False)],  # its one <name> is found by the tokenizer
)  # fmt: skip
def test_flat_transactions_skip_the_tokenizer_and_others_do_not(name, flat, tokenized):
    list(ofx.parse_ofx(OFX_FILES[name], None))

    assert bool(tokenized) is not flat


@pytest.mark.parametrize("name", sorted(BROKEN_OFX))
def test_streamed_ofx_refuses_what_ofxtools_refuses(name):
    with pytest.raises(ImportFileError) as whole:
        list(ofx.parse_ofx(BROKEN_OFX[name], None, stream=False))
    with pytest.raises(ImportFileError) as streamed:
        list(ofx.parse_ofx(BROKEN_OFX[name], None))

    assert streamed.value.code == whole.value.code == "bad_ofx"
    assert "Tail text 'junk'" in streamed.value.message


def test_streamed_ofx_rows_have_tally_signs_and_decimal_amounts(monkeypatch, chunks_read):
    monkeypatch.setattr(ofx_stream, "CHUNK_BYTES", 1)

    rows, statement, _warnings, _skipped = outcome(ofx.parse_ofx(OFX_FILES["two_statements"], None))

    assert len(chunks_read) == 5  # one chunk per transaction
    assert [(row.row_number, row.date, row.amount, row.payee, row.currency, row.external_id) for row in rows] == [
        (1, datetime.date(2024, 3, 5), Decimal("42.17"), "WHOLE FOODS MKT", "USD", "2024030501"),  # money out
        (2, datetime.date(2024, 3, 8), Decimal("-2500.00"), "ACME PAYROLL", "USD", "2024030801"),  # money in
        (3, datetime.date(2024, 3, 9), Decimal("150.00"), "CHECK 1043", "USD", "2024030901"),
        (4, datetime.date(2024, 3, 2), Decimal("-5.00"), "INTEREST", "EUR", "S1"),  # the second statement's
        (5, datetime.date(2024, 3, 3), Decimal("1.00"), "NESTED PAYEE", "GBP", "S2"),
    ]
    assert all(type(row.amount) is Decimal for row in rows)
    assert (statement.account_ref, statement.currency) == ("0123456789", "USD")


@pytest.mark.parametrize(
    "content",
    [OFX_INVESTMENT, V220.decode().encode("utf-16")],
    ids=["investment_cash_movements", "utf16"],
)
def test_ofx_shapes_that_cannot_be_cut_are_read_whole_with_the_same_result(content, chunks_read):
    result = outcome(ofx.parse_ofx(content, None))

    assert not chunks_read
    assert result == outcome(ofx.parse_ofx(content, None, stream=False))
    assert result[0]


def peak_growth_mb(content: bytes, filename: str) -> float:
    """Peak RSS growth of parsing content (Linux: clear_refs 5 restarts VmHWM)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pytest.skip("needs /proc/self/clear_refs")
    before = _status_mb("VmRSS")
    count = sum(1 for _ in iter_parse(content, filename=filename, max_rows=10**7))
    assert count > 1000
    return _status_mb("VmHWM") - before


def _status_mb(field: str) -> float:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024


def big_ofx(count: int) -> bytes:
    body = "".join(
        f"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>2024{1 + n % 12:02d}{1 + n % 28:02d}120000<TRNAMT>-{n % 500}.{n % 100:02d}"
        f"<FITID>F{n}<NAME>SHOP {n % 300}<MEMO>memo {n}</STMTTRN>\n"
        for n in range(count)
    )
    return ofx_sgml(body)


def big_camt(count: int) -> bytes:
    out = io.StringIO()
    out.write('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
              "<BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>\n")  # fmt: skip
    for n in range(count):
        out.write(f'<Ntry><Amt Ccy="EUR">{1 + n % 500}.{n % 100:02d}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
                  f"<BookgDt><Dt>2024-{1 + n % 12:02d}-{1 + n % 28:02d}</Dt></BookgDt><AcctSvcrRef>R{n}</AcctSvcrRef>"
                  f"<NtryDtls><TxDtls><RltdPties><Cdtr><Nm>SHOP {n % 300}</Nm></Cdtr></RltdPties></TxDtls></NtryDtls>"
                  "</Ntry>\n")  # fmt: skip
    out.write("</Stmt></BkToCstmrStmt></Document>\n")
    return out.getvalue().encode()


def big_csv(count: int) -> bytes:
    lines = "".join(
        f"2024-{1 + n % 12:02d}-{1 + n % 28:02d},SHOP {n % 300},-{1 + n % 500}.{n % 100:02d}\n" for n in range(count)
    )
    return ("Date,Description,Amount\n" + lines).encode()


@pytest.mark.parametrize(
    ("make", "count", "filename"),
    [(big_ofx, 60_000, "bank.ofx"), (big_camt, 40_000, "statement.xml"), (big_csv, 200_000, "export.csv")],
    ids=["ofx", "camt053", "csv"],
)
def test_a_large_statement_is_parsed_in_far_less_memory_than_the_file(make, count, filename, monkeypatch):
    from ledger.imports.parsers import camt, qif, swift  # noqa: F401  (their import is not the parse's memory)

    monkeypatch.setattr(ofx_stream, "CHUNK_BYTES", 1 << 16)
    content = make(count)

    growth = peak_growth_mb(content, filename)

    # Whole-document parses grew by 10x the file (OFX, CAMT trees) or 1x (a copy of the upload).
    assert growth < len(content) / 1e6 / 2, (growth, len(content) / 1e6)


def camt_rows(content: bytes) -> list[tuple]:
    stream = iter_parse(content, filename="statement.xml")
    return [(row.row_number, row.date, row.amount, row.payee, row.external_id, row.description) for row in stream]


def test_camt_with_a_namespace_prefix_reads_like_the_default_namespace():
    plain = (FIXTURES / "statement.camt053.xml").read_bytes()
    prefixed = re.sub(rb"<(/?)(?!\?)([A-Za-z])", rb"<\1c:\2", plain).replace(
        b"<c:Document xmlns=", b"<c:Document xmlns:c="
    )

    assert camt_rows(prefixed) == camt_rows(plain) == [
        (1, datetime.date(2024, 3, 8), Decimal("37.50"), "Energie Direct BV", "ASR-2024-0001",
         "Factuur 2024-77 klantnummer 123"),
        (2, datetime.date(2024, 3, 8), Decimal("-1500.00"), "Werkgever BV", "SAL-2024-03", "Salaris maart"),
    ]  # fmt: skip


def test_camt_closing_balance_after_the_entries_is_still_checked():
    plain = (FIXTURES / "statement.camt053.xml").read_bytes()
    closing = re.search(rb"<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd>.*?</Bal>", plain).group(0)
    moved = plain.replace(closing, b"").replace(b"</Stmt>", closing.replace(b">2462.50<", b">2462.51<") + b"</Stmt>")

    stream = iter_parse(moved, filename="statement.xml")
    rows = list(stream)

    assert len(rows) == 2
    assert stream.statement.closing_balance == Decimal("2462.51")
    assert any(warning.startswith("balance mismatch") for warning in stream.warnings)


def test_an_unclosed_xml_transaction_keeps_the_statement_balance_when_streamed():
    content = V220.replace(b"</STMTTRN>", b"", 1)

    rows, statement, _warnings, _skipped = ofx_outcome(content)
    whole_rows, whole_statement, _, _ = ofx_outcome(content, stream=False)

    # Read whole, every end tag after the open STMTTRN closes the element above the one it names, so
    # LEDGERBAL lands inside BANKTRANLIST; streamed, the list ends with its chunk and the balance stays put.
    assert rows == whole_rows
    assert whole_statement.closing_balance is None
    assert (statement.closing_balance, statement.closing_date) == (Decimal("2191.10"), datetime.date(2024, 3, 10))
