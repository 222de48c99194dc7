"""ISO 20022 CAMT.053 (bank to customer statement), versions 001.02 to 001.13,
read with lxml's iterparse: no entities, no DTD, no network, and each Ntry
is cleared once read so memory stays flat.

The statement's namespace is resolved once per file and every lookup uses
fully qualified tag names through lxml's C-level child iteration: a
wildcard path ("{*}Amt") goes through ElementPath in Python on every call,
which was two thirds of the parse's time."""

import datetime
import io
import re

from lxml import etree

from .entries import EntriesParse, Entry, bank_amount
from .types import ImportFileError, Profile, RowProblem, Statement
from .values import CENT

_NAMESPACE = re.compile(r"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})")
_ENTITY = re.compile(rb"<!DOCTYPE[^>\[]*\[[^\]]*<!ENTITY", re.IGNORECASE | re.DOTALL)
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "huge_tree": False}
OPENING_CODES = {"OPBD", "PRCD"}
CLOSING_CODES = {"CLBD"}
_NAMES = (
    "Acct", "AcctSvcrRef", "AddtlNtryInf", "AddtlTxInf", "Amt", "AmtDtls", "Bal", "BkToCstmrStmt", "BookgDt", "Ccy",
    "CdOrPrtry", "Cd", "CdtDbtInd", "Cdtr", "Dbtr", "Dt", "DtTm", "EndToEndId", "IBAN", "Id", "InstdAmt", "Nm", "Ntry",
    "NtryDtls", "NtryRef", "Othr", "Pty", "Refs", "RltdPties", "RmtInf", "Stmt", "Sts", "Tp", "TxAmt", "TxDtls",
    "Ustrd", "ValDt",
)  # fmt: skip


def refuse_entities(content: bytes) -> None:
    head = content[:65536]
    if _ENTITY.search(head) or (b"<!DOCTYPE" in head.upper() and b"<!ENTITY" in head.upper()):
        raise ImportFileError("unsafe_xml", "The XML file declares entities (a DOCTYPE with <!ENTITY>); refused.",
                              "Export the statement again from the bank; CAMT files never need a DOCTYPE.")  # fmt: skip


class _Tags:
    """The qualified names ("{urn:...camt.053.001.08}Amt") of one file's namespace."""

    def __init__(self, namespace: str):
        for name in _NAMES:
            setattr(self, name, f"{{{namespace}}}{name}" if namespace else name)


def _find(element, tags: tuple[str, ...]):
    """element.find("a/b/c") for qualified names: the first match in document order."""
    if element is None:
        return None
    first, rest = tags[0], tags[1:]
    for child in element.iterchildren(first):
        if not rest:
            return child
        found = _find(child, rest)
        if found is not None:
            return found
    return None


def _text(element, *tags: str) -> str:
    found = _find(element, tags) if tags else element
    text = found.text if found is not None else None
    return text.strip() if text else ""


def _children(element) -> dict:
    """Each child tag's first element: one C-level pass instead of a find per field."""
    first: dict = {}
    for child in element:
        if child.tag not in first:
            first[child.tag] = child
    return first


def _value(element) -> str:
    text = element.text if element is not None else None
    return text.strip() if text else ""


def _leaf(children: dict, tag: str) -> str:
    return _value(children.get(tag))


def _day(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def parse_camt(content: bytes, profile: Profile | None) -> EntriesParse:
    refuse_entities(content)
    head = content[:4096].decode("utf-8", "ignore")
    match = _NAMESPACE.search(head)
    if not match or not 2 <= int(match.group(1)) <= 13:
        raise ImportFileError("unknown_format", "The XML file is not a CAMT.053 statement (camt.053.001.02-13).",
                              "CAMT.052 and CAMT.054 are not statements; download CAMT.053 instead.")  # fmt: skip
    statement = Statement()
    entries = _Entries(content, statement, match.group(0))
    # Balances and the account sit before the entries: the first pass reads them, entries stream later.
    entries.read_header()
    return EntriesParse("camt053", profile, entries, statement)


class _Entries:
    def __init__(self, content: bytes, statement: Statement, namespace: str):
        self.content = content
        self.statement = statement
        self.t = _Tags(namespace)

    def _events(self, tags, *, clear):
        try:
            for _event, element in etree.iterparse(io.BytesIO(self.content), events=("end",), tag=tags,
                                                   **_PARSER_OPTIONS):  # fmt: skip
                yield element
                if element.tag in clear:
                    element.clear(keep_tail=True)
                    while element.getprevious() is not None:
                        del element.getparent()[0]
        except etree.XMLSyntaxError as exc:
            raise ImportFileError("bad_xml", f"The XML file is malformed: {exc}")

    def read_header(self) -> None:
        """The account and balances before the first entry (where the schema
        puts them), and the namespace the statement is really in: the
        entries' pass reads any balances that come later."""
        try:
            for event, element in etree.iterparse(io.BytesIO(self.content), events=("start", "end"),
                                                  **_PARSER_OPTIONS):  # fmt: skip
                if not isinstance(element.tag, str):
                    continue
                local = etree.QName(element).localname
                if event == "start":
                    if local == "BkToCstmrStmt":
                        # The head named the version; the statement's own element names its namespace.
                        self.t = _Tags(etree.QName(element).namespace or "")
                    elif local == "Ntry":
                        return
                elif local in ("Acct", "Bal") and element.tag in (self.t.Acct, self.t.Bal):
                    self._header_element(element)
        except etree.XMLSyntaxError as exc:
            raise ImportFileError("bad_xml", f"The XML file is malformed: {exc}")

    def _header_element(self, element) -> None:
        t, statement = self.t, self.statement
        if element.tag == t.Acct:
            parent = element.getparent()
            if parent is not None and parent.tag == t.Stmt and not statement.account_ref:
                statement.account_ref = _text(element, t.Id, t.IBAN) or _text(element, t.Id, t.Othr, t.Id)
                statement.currency = statement.currency or _text(element, t.Ccy)
            return
        code = _text(element, t.Tp, t.CdOrPrtry, t.Cd)
        try:
            currency, value = self._signed(_children(element))
        except RowProblem:
            return
        statement.currency = statement.currency or currency
        value = value.quantize(CENT)
        if code in OPENING_CODES and statement.opening_balance is None:
            statement.opening_balance = value
        elif code in CLOSING_CODES:
            statement.closing_balance = value

    def _signed(self, children: dict) -> tuple[str, object]:
        amount = children.get(self.t.Amt)
        text = (amount.text or "").strip() if amount is not None else ""
        value = bank_amount(text, "Amt")
        if _leaf(children, self.t.CdtDbtInd) == "DBIT":
            value = -value
        return (amount.get("Ccy", "") if amount is not None else ""), value

    def __iter__(self):
        # One pass over the file: entries, and the account and balances as they come (the
        # ones read_header saw again, to the same effect; a later statement's after them).
        t = self.t
        number = 0
        ntry = t.Ntry
        for element in self._events((t.Bal, t.Acct, ntry), clear=(ntry, t.Bal)):
            if element.tag != ntry:
                self._header_element(element)
                continue
            children = _children(element)
            transactions = [tx for block in element.iterchildren(t.NtryDtls) for tx in block.iterchildren(t.TxDtls)]
            parts = self._batch(children, transactions) if len(transactions) > 1 else None
            if parts is None:
                number += 1
                yield self._entry(number, element, children, transactions[0] if transactions else None)
                continue
            for index, part in enumerate(parts, start=1):
                number += 1
                yield self._entry(number, element, children, part[0], part=(index, *part))

    def _batch(self, children: dict, transactions: list) -> list[tuple] | None:
        """A batch booked as one entry (a collective direct debit or transfer, Btch with
        NbOfTxs, one TxDtls per payment): its transactions, when each has its own amount
        and they add up to the entry's; else None and the entry is one row."""
        t = self.t
        indicator = _leaf(children, t.CdtDbtInd)
        if indicator not in ("DBIT", "CRDT"):
            return None
        paths = ((t.Amt,), (t.AmtDtls, t.TxAmt, t.Amt), (t.AmtDtls, t.InstdAmt, t.Amt))
        try:
            currency, total = self._signed(children)
            parts = []
            for details in transactions:
                amount = next((found for path in paths if (found := _find(details, path)) is not None), None)
                if amount is None:
                    return None
                if amount.get("Ccy", currency) != currency:
                    return None  # an instructed amount in another currency: the entry's own amount stands
                own = _text(details, t.CdtDbtInd) or indicator
                value = bank_amount((amount.text or "").strip(), "Amt")
                parts.append((details, own, currency, -value if own == "DBIT" else value))
        except RowProblem:
            return None
        if sum(value for *_rest, value in parts) != total:
            return None
        return parts

    def _entry(self, number: int, entry, children: dict, details, part: tuple | None = None) -> Entry:
        # Once per entry of a million-entry file: lookups are spelled out rather than shared helpers.
        t, get = self.t, children.get
        indicator = _value(get(t.CdtDbtInd))
        booked = get(t.BookgDt)
        booked_day = booked_time = ""
        if booked is not None:
            booked_day = _value(_find(booked, (t.Dt,)))
            booked_time = "" if booked_day else _value(_find(booked, (t.DtTm,)))
        amount = get(t.Amt)
        raw = {
            "Amt": _value(amount),
            "CdtDbtInd": indicator,
            "BookgDt": booked_day or booked_time,
            "NtryRef": _value(get(t.NtryRef)),
        }
        status = get(t.Sts)
        if status is not None and (_value(status) or _value(_find(status, (t.Cd,)))) in ("PDNG", "INFO"):
            return Entry(number, raw, skip=True)
        if indicator not in ("DBIT", "CRDT"):
            problem = RowProblem(f"CdtDbtInd {indicator!r} is neither DBIT nor CRDT.", "CdtDbtInd")
            return Entry(number, raw, problem=problem)
        try:
            value = bank_amount(raw["Amt"], "Amt")
        except RowProblem as exc:
            return Entry(number, raw, problem=exc)
        if indicator == "DBIT":
            value = -value
        currency = amount.get("Ccy", "") if amount is not None else ""
        date = _day(booked_day or booked_time[:10]) if booked is not None else None
        if date is None and (valued := get(t.ValDt)) is not None:
            date = _day(_value(_find(valued, (t.Dt,))) or _value(_find(valued, (t.DtTm,)))[:10])
        if part is not None:  # one transaction of a batch booked as one entry
            index, details, indicator, currency, value = part
            raw = {**raw, "TxDtls": str(index), "TxAmt": f"{abs(value)}", "TxCdtDbtInd": indicator}
        scope_element = details if details is not None else entry
        scope = _children(details) if details is not None else children
        payee = ""
        if (parties := scope.get(t.RltdPties)) is not None:
            party = t.Cdtr if indicator == "DBIT" else t.Dbtr
            payee = _value(_find(parties, (party, t.Nm))) or _value(_find(parties, (party, t.Pty, t.Nm)))
        remittance = ""
        if t.RmtInf in scope:
            remittance = " ".join(
                text
                for block in scope_element.iterchildren(t.RmtInf)
                for line in block.iterchildren(t.Ustrd)
                if (text := (line.text or "").strip())
            )
        end_to_end = own_reference = ""
        if t.Refs in scope:
            end_to_end = _value(_find(scope_element, (t.Refs, t.EndToEndId)))
            own_reference = _value(_find(scope_element, (t.Refs, t.AcctSvcrRef)))
        if end_to_end == "NOTPROVIDED":
            end_to_end = ""
        external_id = _value(get(t.AcctSvcrRef)) or raw["NtryRef"] or end_to_end or own_reference
        if part is not None:
            own = own_reference or end_to_end
            external_id = own or (f"{external_id}/{part[0]}" if external_id else "")
        notes = _value(get(t.AddtlNtryInf)) or _value(scope.get(t.AddtlTxInf))
        return Entry(
            number,
            raw,
            date=date,
            bank_amount=value,
            payee=payee,
            description=remittance or notes,
            notes=notes if remittance else "",
            currency=currency,
            external_id=external_id,
            problem=None if date is not None else RowProblem("BookgDt has no Dt or DtTm.", "BookgDt"),
        )
