"""OFX 1.x (SGML), OFX 2.x (XML) and QFX through ofxtools' OFXTree.

Only ofxtools' tokenizer is used (OFXTree.parse -> ElementTree); its
model conversion rejects common real-world files (a NAME over 32 chars,
a missing aggregate), so the elements are read directly. Before parsing,
the header is rebuilt canonically, tag names upper-cased and times cut from
DTPOSTED, so the date is the bank's own day rather than a UTC shift of it.

A bank or card statement (its transactions in BANKTRANLIST) is streamed
(ofx_stream.py): ofxtools reads the document without its transactions,
which are then tokenized a chunk at a time, so memory stays flat in the
file's size. Other shapes (an investment statement's INVBANKTRAN, a
UTF-16 file) are read whole."""

import datetime
import io
import re

from ofxtools.Parser import OFXTree, ParseError, TreeBuilder

from . import ofx_stream
from .entries import EntriesParse, Entry, bank_amount
from .types import ImportFileError, Profile, RowProblem, Statement
from .values import CENT, detect_encoding

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
# Only the dates the cut changes (leading blanks, a time after the day): most files' dates are
# already bare, and rewriting each of them was a tenth of the parse.
_DATE_TIME = re.compile(r"<(DTPOSTED|DTUSER|DTASOF)>(?:\s+(\d{8})[^<\r\n]*|(\d{8})[^<\r\n]+)")
_DATED = re.compile(r"<(DTPOSTED|DTUSER|DTASOF)>\s*\d{8}", re.IGNORECASE)
_VALUED_ANY_CASE = re.compile(r"<([A-Za-z][A-Za-z0-9._]*)>[ \t]*[^<\s]")
# A transaction of elements only, each <TAG>text with an optional </TAG>, or an empty <TAG></TAG>; as
# ofxtools' tokenizer reads them (its tag characters, text up to '<', blanks only between).
# Possessive: a chunk that does not match fails at once instead of backtracking through every blank.
_FLAT_TAG = r"[A-Z0-9._ ][A-Z0-9./_ ]*+"
_FLAT_ELEMENT = rf"<(?P<tag>{_FLAT_TAG})>(?:(?>\s*+[^<\s][^<]*+)(?:</(?P=tag)>\s*+)?|\s*+</(?P=tag)>\s*+)"
_FLAT_TRANSACTION = re.compile(rf"<STMTTRN>\s*+((?:{_FLAT_ELEMENT})*+)</STMTTRN>\s*+")
_FLAT_PAIR = re.compile(rf"<({_FLAT_TAG})>([^<]*+)")
_WRAP_OPEN = "<OFX><STMTRS>" + "<BANKTRANLIST>"
_WRAP_CLOSE = "</BANKTRANLIST>" + "</STMTRS></OFX>"
_LEADING_BLANKS = re.compile(rb"[\r\n\t ]*")
_FLAT_CHUNK = re.compile(
    rf"{re.escape(_WRAP_OPEN)}\s*+(?:<STMTTRN>\s*+(?:{_FLAT_ELEMENT})*+</STMTTRN>\s*+)*+{re.escape(_WRAP_CLOSE)}"
)
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

    tags = 0  # the '<' the last feed's matches consumed: the streamed path compares them with the text's

    def feed(self, data: str) -> None:
        start, end, text_data = self.start, self.end, self.data
        tags = 0
        for match in self.regex.finditer(data):
            tag, cdata, text, closetag, tail = match.group("tag", "cdata", "text", "closetag", "tail")
            tags += 1 if closetag is None else 2
            try:
                tail = (tail or "").strip()
                if tail:
                    # ofxtools quotes the whole document here (megabytes in a 400's message): the tag will do.
                    raise ParseError(f"Tail text '{tail[:100]}' in {match.group(0)[:200]!r}")
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
        self.tags = tags


def _upper_tag(match: re.Match) -> str:
    return f"<{match.group(1)}{match.group(2).upper()}>"


def _date_only(match: re.Match) -> str:
    return f"<{match.group(1)}>{match.group(2) or match.group(3)}"


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


def _clean(text: str, valued: frozenset[str] = frozenset()) -> tuple[str, str]:
    """text with a canonical header, upper-case tags and dates without times;
    valued: element names that carry a value in parts of the file not in text."""
    version, kind = _version(text)
    match = _BODY.search(text)
    if not match:
        raise ImportFileError("bad_ofx", "The OFX file has no <OFX> element.")
    body = text[match.start() :]
    body = _TAG.sub(_upper_tag, body)
    body = _DATE_TIME.sub(_date_only, body)
    if kind == "sgml":
        body = _drop_element_end_tags(body, valued)
        body = _close_transactions(body)
    return (_XML_HEADER if kind == "xml" else _SGML_HEADER).format(version=version) + body, kind


def _drop_element_end_tags(body: str, valued: frozenset[str] = frozenset()) -> str:
    """In OFX 1.x SGML an element (a tag with a value) needs no end tag, and some
    banks' software writes the end tags where a nesting printer puts them, after
    the next element (</SEVERITY></CODE> closing <CODE>0<SEVERITY>INFO): the
    tokenizer then sees mismatched tags. An element is never an aggregate, so
    every end tag of a name that carries a value somewhere in the file can go;
    an empty element's pair (<MEMO></MEMO>) goes first, whole."""
    elements = {match.group(1) for match in _VALUED.finditer(body)} | valued
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


def parse_ofx(content: bytes, profile: Profile | None, *, stream: bool = True) -> EntriesParse:
    """stream=False reads the whole document with ofxtools (what the streamed path must equal)."""
    start = _LEADING_BLANKS.match(content).end()
    encoding = detect_encoding(content, profile.encoding if profile else "", start=start)
    layout = ofx_stream.find_layout(content, start, encoding) if stream else None
    if layout is not None:
        skeleton = layout.skeleton_text()
        _number, kind = _version(skeleton)
        valued = frozenset()
        if kind == "sgml":  # _clean's element names are the whole file's: the skeleton's and the runs'
            body = _BODY.search(skeleton)
            valued = _valued_names(skeleton[body.start() :] if body else "").union(
                *(_valued_names(text) for _index, text in layout.chunks())
            )
        root = _tree(_clean(skeleton, valued)[0])
        statements = _statements(root)
        currencies = _run_currencies(root, statements, layout)
        if currencies is not None:
            statement, warnings = _statement_of(statements)
            chunks = _ChunkReader(kind, valued)
            transactions = (
                (currencies[index], raw, found)
                for index, text in layout.chunks()
                for raw, found in chunks.transactions(text)
            )
            return EntriesParse("ofx", profile, _entries(transactions), statement, warnings)
    root = _tree(_clean(content[start:].decode(encoding))[0])
    statements = _statements(root)
    statement, warnings = _statement_of(statements)
    transactions = (
        (_currency(element), _raw(found), found) for element in statements for found in element.iter("STMTTRN")
    )
    return EntriesParse("ofx", profile, _entries(transactions), statement, warnings)


def _run_currencies(root, statements: list, layout: ofx_stream.Layout) -> list[str] | None:
    """Each streamed run's statement currency; None when the skeleton does not say which
    statement each BANKTRANLIST belongs to, or holds transactions of its own (an
    investment statement's INVBANKTRAN): such a file is read whole."""
    if next(root.iter("STMTTRN"), None) is not None:
        return None
    lists = list(root.iter("BANKTRANLIST"))
    owned = [(statement, found) for statement in statements for found in statement.iter("BANKTRANLIST")]
    if len(lists) != layout.lists or [found for _statement, found in owned] != lists:
        return None
    return [_currency(owned[ordinal][0]) for ordinal in layout.run_lists]


def _valued_names(text: str) -> frozenset[str]:
    """The element names that carry a value somewhere in text, as _drop_element_end_tags
    finds them after the tags are upper-cased and the dates' times cut."""
    names = set(_VALUED_ANY_CASE.findall(text))
    names.update(_DATED.findall(text))
    return frozenset(name.upper() for name in names)


class _ChunkReader:
    """_clean's rules for one chunk of a streamed transaction list, then its transactions.

    A chunk of flat transactions (every element a value, as banks write them) is read by
    two regexes in C: the chunk's fullmatch proves the tokenizer would have built
    STMTTRNs of leaves and nothing else, so each one's tag -> stripped text pairs are
    exactly what _raw reads from the tokenizer's tree. Any other chunk (a PAYEE
    aggregate, CDATA, a stray tag) goes through the tokenizer.

    Tags are upper-cased only once a chunk turns out to have a lower-case one: when
    every '<' of a chunk starts a tag the tokenizer matched, the chunk had none (and the
    upper-casing, a Python call per tag, would have changed nothing)."""

    def __init__(self, kind: str, valued: frozenset[str]):
        self.sgml = kind == "sgml"
        self.upper = False
        self.empty_pair = self.end_tag = None
        if self.sgml and valued:
            names = "|".join(re.escape(name) for name in sorted(valued, key=len, reverse=True))
            self.empty_pair = re.compile(rf"<({names})>\s*</\1>")
            self.end_tag = re.compile(rf"</(?:{names})>")

    def transactions(self, text: str):
        """(raw, STMTTRN element or None) of each transaction of the chunk, in file order."""
        if not self.upper:
            body = self._cleaned(text)
            if _FLAT_CHUNK.fullmatch(body):
                return _flat(body)
            try:
                root, tags = _tree_of_chunk(body)
                if tags == body.count("<"):
                    return ((_raw(found), found) for found in root.iter("STMTTRN"))
            except ImportFileError:
                pass
            self.upper = True
        body = self._cleaned(text)
        if _FLAT_CHUNK.fullmatch(body):
            return _flat(body)
        root, _tags = _tree_of_chunk(body)
        return ((_raw(found), found) for found in root.iter("STMTTRN"))

    def _cleaned(self, text: str) -> str:
        body = _TAG.sub(_upper_tag, text) if self.upper else text
        body = _DATE_TIME.sub(_date_only, body)
        if self.empty_pair is not None:
            body = self.end_tag.sub("", self.empty_pair.sub("", body))
        # The wrapper levels take stray end tags as the whole document's outer aggregates would.
        body = f"{_WRAP_OPEN}{body}{_WRAP_CLOSE}"
        return _close_transactions(body) if self.sgml else body


def _flat(body: str):
    for match in _FLAT_TRANSACTION.finditer(body):
        yield {tag: value.strip() for tag, value in _FLAT_PAIR.findall(match.group(1))}, None


def _raw(transaction) -> dict[str, str]:
    """The transaction's elements (children without children of their own): tag -> text."""
    return {child.tag: (child.text or "").strip() for child in transaction if len(child) == 0}


def _tree(cleaned: str):
    try:
        return OFXTree().parse(io.BytesIO(cleaned.encode("utf-8")), parser=_TreeBuilder())
    except Exception as exc:  # ofxtools raises several unrelated types for malformed files
        raise ImportFileError("bad_ofx", f"The OFX file could not be read: {exc}", "Download it again from the bank.")


def _tree_of_chunk(text: str):
    """A chunk of transactions (wrapped in BANKTRANLIST by the caller) through the same
    tokenizer -> (root, tags matched)."""
    builder = _TreeBuilder()
    try:
        builder.feed(text)
        return builder.close(), builder.tags
    except Exception as exc:  # as _tree: the tokenizer's and ElementTree's errors
        raise ImportFileError("bad_ofx", f"The OFX file could not be read: {exc}", "Download it again from the bank.")


def _statements(root) -> list:
    return [element for element in root.iter() if element.tag in ("STMTRS", "CCSTMTRS", "INVSTMTRS")]


def _currency(statement) -> str:
    return (statement.findtext("CURDEF") or "").strip()


def _statement_of(statements: list) -> tuple[Statement, list[str]]:
    statement = Statement()
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
    return statement, warnings


def _entries(transactions):
    """Entries of (statement currency, raw, STMTTRN element or None for a flat one), numbered in file order."""
    number = 0
    for currency, raw, transaction in transactions:
        number += 1
        try:
            amount = bank_amount(raw.get("TRNAMT"), "TRNAMT")
            date = _date(raw.get("DTPOSTED") or raw.get("DTUSER"))
            if date is None:
                raise RowProblem(f"DTPOSTED {raw.get('DTPOSTED', '')!r} is not a date.", "DTPOSTED")
        except RowProblem as exc:
            yield Entry(number, raw, problem=exc)
            continue
        payee = raw.get("NAME", "")
        if not payee and transaction is not None and (nested := transaction.find("PAYEE")) is not None:
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
