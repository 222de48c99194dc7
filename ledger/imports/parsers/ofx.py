"""OFX 1.x (SGML), OFX 2.x (XML) and QFX through ofxtools' OFXTree.

Only ofxtools' tokenizer is used (OFXTree.parse -> ElementTree); its
model conversion rejects common real-world files (a NAME over 32 chars,
a missing aggregate), so the elements are read directly. Before parsing,
the header is rebuilt canonically, tag names upper-cased and times cut from
DTPOSTED, so the date is the bank's own day rather than a UTC shift of it."""

import datetime
import io
import re

from ofxtools.Parser import OFXTree, ParseError, TreeBuilder

from .entries import EntriesParse, Entry, bank_amount
from .types import ImportFileError, Profile, RowProblem, Statement
from .values import CENT, decode

V1_VERSIONS = {"102", "103", "151", "160"}
V2_VERSIONS = {"200", "201", "202", "203", "210", "211", "220"}
_SGML_VERSION = re.compile(r"VERSION\s*:\s*(\d+)", re.IGNORECASE)
_XML_VERSION = re.compile(r"<\?OFX[^>]*VERSION\s*=\s*\"(\d+)\"", re.IGNORECASE)
_BODY = re.compile(r"<OFX>", re.IGNORECASE)
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9._]*)>")
_TRANSACTION_TAGS = re.compile(r"(<STMTTRN>|</STMTTRN>|</BANKTRANLIST>)")
_VALUED = re.compile(r"<([A-Z][A-Z0-9._]*)>[ \t]*[^<\s]")
_EMPTY_ELEMENT = re.compile(r"<([A-Z][A-Z0-9._]*)>\s*</\1>")
_END_TAG = re.compile(r"</([A-Z][A-Z0-9._]*)>")
_DATE_TIME = re.compile(r"<(DTPOSTED|DTUSER|DTASOF)>\s*(\d{8})[^<\r\n]*")
_SGML_HEADER = (
    "OFXHEADER:100\nDATA:OFXSGML\nVERSION:{version}\nSECURITY:NONE\nENCODING:UTF-8\nCHARSET:NONE\n"
    "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
)
_XML_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<?OFX OFXHEADER="200" VERSION="{version}" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
)


class _TreeBuilder(TreeBuilder):
    """ofxtools' tokenizer as it is (its regex, its rules, its errors) without
    the four logger.debug f-strings it formats for every tag, which were most
    of the OFX parse's time."""

    def feed(self, data: str) -> None:
        start, end, text_data = self.start, self.end, self.data
        for match in self.regex.finditer(data):
            tag, cdata, text, closetag, tail = match.group("tag", "cdata", "text", "closetag", "tail")
            try:
                tail = (tail or "").strip()
                if tail:
                    raise ParseError(f"Tail text '{tail}' in {match.string}")
                text = cdata or (text or "").strip() or None
                if not tag:
                    raise ParseError("Empty tag")
                if closetag is not None and closetag != tag:
                    raise ParseError(f"Mismatched tags: open='{tag}', close='{closetag}'")
                if tag.startswith("/"):
                    if text:
                        raise ParseError(f"Tail text '{text}' after <{tag}>")
                    end(tag[1:])
                    continue
                start(tag, {})
                if text:  # a data-bearing leaf; its end tag is optional in OFX 1
                    text_data(text)
                    end(tag)
                elif closetag:  # an empty aggregate
                    end(tag)
            except ParseError as err:
                raise ParseError(f"{err.args[0]} - position=[{match.start()}:{match.end()}]")


def _version(text: str) -> tuple[str, str]:
    head = text[: text.upper().find("<OFX>")] if "<OFX>" in text.upper() else text[:2000]
    if match := _XML_VERSION.search(head):
        version, kind = match.group(1), "xml"
    elif match := _SGML_VERSION.search(head):
        version, kind = match.group(1), "sgml"
    else:
        return "102", "sgml"  # some banks send the body without any header
    if version not in (V2_VERSIONS if kind == "xml" else V1_VERSIONS):
        raise ImportFileError(
            "unknown_ofx_version",
            f"OFX version {version} is not one this importer knows (1.02-1.60, 2.00-2.20).",
            "Download the statement again as OFX 1.02 (Quicken/Money format) or 2.x, or as CSV.",
        )
    return version, kind


def _clean(text: str) -> tuple[str, str]:
    version, kind = _version(text)
    match = _BODY.search(text)
    if not match:
        raise ImportFileError("bad_ofx", "The OFX file has no <OFX> element.")
    body = text[match.start() :]
    body = _TAG.sub(lambda m: f"<{m.group(1)}{m.group(2).upper()}>", body)
    body = _DATE_TIME.sub(lambda m: f"<{m.group(1)}>{m.group(2)}", body)
    if kind == "sgml":
        body = _drop_element_end_tags(body)
        body = _close_transactions(body)
    return (_XML_HEADER if kind == "xml" else _SGML_HEADER).format(version=version) + body, kind


def _drop_element_end_tags(body: str) -> str:
    """In OFX 1.x SGML an element (a tag with a value) needs no end tag, and some
    banks' software writes the end tags where a nesting printer puts them, after
    the next element (</SEVERITY></CODE> closing <CODE>0<SEVERITY>INFO): the
    tokenizer then sees mismatched tags. An element is never an aggregate, so
    every end tag of a name that carries a value somewhere in the file can go;
    an empty element's pair (<MEMO></MEMO>) goes first, whole."""
    elements = {match.group(1) for match in _VALUED.finditer(body)}
    if not elements:
        return body
    body = _EMPTY_ELEMENT.sub(lambda m: "" if m.group(1) in elements else m.group(0), body)
    return _END_TAG.sub(lambda m: "" if m.group(1) in elements else m.group(0), body)


def _close_transactions(body: str) -> str:
    # Some banks never close <STMTTRN>; without this the rest of the statement nests inside the last one.
    parts = _TRANSACTION_TAGS.split(body)
    out, open_ = [], False
    for part in parts:
        if part in ("<STMTTRN>", "</BANKTRANLIST>") and open_:
            out.append("</STMTTRN>")
        if part == "<STMTTRN>":
            open_ = True
        elif part in ("</STMTTRN>", "</BANKTRANLIST>"):
            open_ = False
        out.append(part)
    return "".join(out)


def _date(text: str | None) -> datetime.date | None:
    if not text or len(text.strip()) < 8:
        return None
    try:
        value = text.strip()
        return datetime.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


def parse_ofx(content: bytes, profile: Profile | None) -> EntriesParse:
    cleaned, _kind = _clean(decode(content.lstrip(b"\r\n\t "), profile.encoding if profile else ""))
    try:
        root = OFXTree().parse(io.BytesIO(cleaned.encode("utf-8")), parser=_TreeBuilder())
    except Exception as exc:  # ofxtools raises several unrelated types for malformed files
        raise ImportFileError("bad_ofx", f"The OFX file could not be read: {exc}", "Download it again from the bank.")
    statement = Statement()
    statements = [element for element in root.iter() if element.tag in ("STMTRS", "CCSTMTRS", "INVSTMTRS")]
    if not statements:
        raise ImportFileError("no_rows", "The OFX file has no bank or card statement in it.")
    warnings = []
    # A brokerage or cash-management account's statement: its cash movements (INVBANKTRAN, each a
    # STMTTRN) are the account's transactions; trades, income and reinvestments are not imported.
    trades = sum(
        1
        for element in statements
        if element.tag == "INVSTMTRS"
        for listed in element.iterfind("INVTRANLIST/*")
        if listed.tag not in ("INVBANKTRAN", "DTSTART", "DTEND")
    )
    if trades:
        warnings.append(
            f"not imported: {trades} investment transaction(s) of the investment statement (trades, income, "
            "reinvestments); only its cash movements (INVBANKTRAN) are"
        )
    if all(element.tag == "INVSTMTRS" for element in statements) and not any(
        element.find("INVTRANLIST/INVBANKTRAN") is not None for element in statements
    ):
        raise ImportFileError(
            "no_rows",
            "The OFX file is an investment statement with no cash movements (INVBANKTRAN) in it.",
            "Tally imports bank, card and cash transactions; trades and holdings are not imported.",
        )
    for element in statements:
        statement.currency = statement.currency or (element.findtext("CURDEF") or "").strip()
        accounts = (element.find(tag) for tag in ("BANKACCTFROM", "CCACCTFROM", "INVACCTFROM"))
        account = next((found for found in accounts if found is not None), None)
        if account is not None and not statement.account_ref:
            statement.account_ref = (account.findtext("ACCTID") or "").strip()
        balance = element.find("LEDGERBAL")
        if balance is not None:
            try:
                statement.closing_balance = bank_amount(balance.findtext("BALAMT"), "BALAMT").quantize(CENT)
                statement.closing_date = _date(balance.findtext("DTASOF"))
            except RowProblem:
                pass
    return EntriesParse("ofx", profile, _entries(statements), statement, warnings)


def _entries(statements):
    number = 0
    for element in statements:
        currency = (element.findtext("CURDEF") or "").strip()
        for transaction in element.iter("STMTTRN"):
            number += 1
            raw = {child.tag: (child.text or "").strip() for child in transaction if len(child) == 0}
            try:
                amount = bank_amount(raw.get("TRNAMT"), "TRNAMT")
                date = _date(raw.get("DTPOSTED") or raw.get("DTUSER"))
                if date is None:
                    raise RowProblem(f"DTPOSTED {raw.get('DTPOSTED', '')!r} is not a date.", "DTPOSTED")
            except RowProblem as exc:
                yield Entry(number, raw, problem=exc)
                continue
            payee = raw.get("NAME", "")
            if not payee and (nested := transaction.find("PAYEE")) is not None:
                payee = (nested.findtext("NAME") or "").strip()
            yield Entry(
                number,
                raw,
                date=date,
                bank_amount=amount,
                payee=payee,
                description=payee,
                notes=raw.get("MEMO", ""),
                currency=raw.get("CURRENCY", "") if len(raw.get("CURRENCY", "")) == 3 else currency,
                external_id=raw.get("FITID", "") or raw.get("CHECKNUM", ""),
            )
