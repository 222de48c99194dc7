"""ISO 20022 CAMT.053 (bank to customer statement), versions 001.02 to 001.13,
read with lxml's iterparse: no entities, no DTD, no network, and each Ntry
is cleared once read so memory stays flat."""

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
_HEADER_TAGS = ("{*}Bal", "{*}Acct", "{*}Ntry")
OPENING_CODES = {"OPBD", "PRCD"}
CLOSING_CODES = {"CLBD"}


def refuse_entities(content: bytes) -> None:
    head = content[:65536]
    if _ENTITY.search(head) or (b"<!DOCTYPE" in head.upper() and b"<!ENTITY" in head.upper()):
        raise ImportFileError("unsafe_xml", "The XML file declares entities (a DOCTYPE with <!ENTITY>); refused.",
                              "Export the statement again from the bank; CAMT files never need a DOCTYPE.")  # fmt: skip


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _text(element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None and found.text else ""


def _date(element, path: str) -> datetime.date | None:
    block = element.find(path)
    if block is None:
        return None
    text = _text(block, "{*}Dt") or _text(block, "{*}DtTm")[:10]
    try:
        return datetime.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def _signed(element) -> tuple[str, object]:
    amount = element.find("{*}Amt")
    text = (amount.text or "").strip() if amount is not None else ""
    value = bank_amount(text, "Amt")
    if _text(element, "{*}CdtDbtInd") == "DBIT":
        value = -value
    return (amount.get("Ccy", "") if amount is not None else ""), value


_TX_AMOUNTS = ("{*}Amt", "{*}AmtDtls/{*}TxAmt/{*}Amt", "{*}AmtDtls/{*}InstdAmt/{*}Amt")


def _batch(entry) -> list[tuple] | None:
    """A batch booked as one entry (a collective direct debit or transfer, Btch with
    NbOfTxs, one TxDtls per payment): its transactions, when each has its own amount
    and they add up to the entry's; else None and the entry is one row."""
    transactions = entry.findall("{*}NtryDtls/{*}TxDtls")
    if len(transactions) < 2 or _text(entry, "{*}CdtDbtInd") not in ("DBIT", "CRDT"):
        return None
    try:
        currency, total = _signed(entry)
        parts = []
        for details in transactions:
            amount = next((found for path in _TX_AMOUNTS if (found := details.find(path)) is not None), None)
            if amount is None:
                return None
            if amount.get("Ccy", currency) != currency:
                return None  # an instructed amount in another currency: the entry's own amount stands
            indicator = _text(details, "{*}CdtDbtInd") or _text(entry, "{*}CdtDbtInd")
            value = bank_amount((amount.text or "").strip(), "Amt")
            parts.append((details, indicator, currency, -value if indicator == "DBIT" else value))
    except RowProblem:
        return None
    if sum(value for *_rest, value in parts) != total:
        return None
    return parts


def parse_camt(content: bytes, profile: Profile | None) -> EntriesParse:
    refuse_entities(content)
    head = content[:4096].decode("utf-8", "ignore")
    match = _NAMESPACE.search(head)
    if not match or not 2 <= int(match.group(1)) <= 13:
        raise ImportFileError("unknown_format", "The XML file is not a CAMT.053 statement (camt.053.001.02-13).",
                              "CAMT.052 and CAMT.054 are not statements; download CAMT.053 instead.")  # fmt: skip
    statement = Statement()
    entries = _Entries(content, statement)
    # Balances and the account sit before and after the entries: the first pass reads them, entries stream later.
    entries.read_header()
    return EntriesParse("camt053", profile, entries, statement)


class _Entries:
    def __init__(self, content: bytes, statement: Statement):
        self.content = content
        self.statement = statement

    def _events(self, tags):
        try:
            for _event, element in etree.iterparse(io.BytesIO(self.content), events=("end",), tag=tags,
                                                   **_PARSER_OPTIONS):  # fmt: skip
                yield element
                if _local(element.tag) in ("Ntry", "Bal"):
                    element.clear(keep_tail=True)
                    while element.getprevious() is not None:
                        del element.getparent()[0]
        except etree.XMLSyntaxError as exc:
            raise ImportFileError("bad_xml", f"The XML file is malformed: {exc}")

    def read_header(self) -> None:
        """The account and balances before the first entry (where the schema
        puts them): the entries' pass reads any that come later."""
        for element in self._events(_HEADER_TAGS):
            if _local(element.tag) == "Ntry":
                break
            self._header_element(element)

    def _header_element(self, element) -> None:
        statement = self.statement
        if _local(element.tag) == "Acct":
            if _local(element.getparent().tag) == "Stmt" and not statement.account_ref:
                statement.account_ref = _text(element, "{*}Id/{*}IBAN") or _text(element, "{*}Id/{*}Othr/{*}Id")
                statement.currency = statement.currency or _text(element, "{*}Ccy")
            return
        code = _text(element, "{*}Tp/{*}CdOrPrtry/{*}Cd")
        try:
            currency, value = _signed(element)
        except RowProblem:
            return
        statement.currency = statement.currency or currency
        value = value.quantize(CENT)
        if code in OPENING_CODES and statement.opening_balance is None:
            statement.opening_balance = value
        elif code in CLOSING_CODES:
            statement.closing_balance = value

    def __iter__(self):
        # One pass over the file: entries, and the account and balances as they come (the
        # ones read_header saw again, to the same effect; a later statement's after them).
        number = 0
        for element in self._events(_HEADER_TAGS):
            if _local(element.tag) != "Ntry":
                self._header_element(element)
                continue
            parts = _batch(element)
            if parts is None:
                number += 1
                yield self._entry(number, element)
                continue
            for index, part in enumerate(parts, start=1):
                number += 1
                yield self._entry(number, element, part=(index, *part))

    def _entry(self, number: int, entry, part: tuple | None = None) -> Entry:
        indicator = _text(entry, "{*}CdtDbtInd")
        raw = {
            "Amt": _text(entry, "{*}Amt"),
            "CdtDbtInd": indicator,
            "BookgDt": _text(entry, "{*}BookgDt/{*}Dt") or _text(entry, "{*}BookgDt/{*}DtTm"),
            "NtryRef": _text(entry, "{*}NtryRef"),
        }
        status = _text(entry, "{*}Sts") or _text(entry, "{*}Sts/{*}Cd")
        if status in ("PDNG", "INFO"):
            return Entry(number, raw, skip=True)
        try:
            if indicator not in ("DBIT", "CRDT"):
                raise RowProblem(f"CdtDbtInd {indicator!r} is neither DBIT nor CRDT.", "CdtDbtInd")
            currency, value = _signed(entry)
        except RowProblem as exc:
            return Entry(number, raw, problem=exc)
        date = _date(entry, "{*}BookgDt") or _date(entry, "{*}ValDt")
        details = entry.find("{*}NtryDtls/{*}TxDtls")
        if part is not None:  # one transaction of a batch booked as one entry
            index, details, indicator, currency, value = part
            raw = {**raw, "TxDtls": str(index), "TxAmt": f"{abs(value)}", "TxCdtDbtInd": indicator}
        scope = details if details is not None else entry
        party = "Cdtr" if indicator == "DBIT" else "Dbtr"
        payee = _text(scope, f"{{*}}RltdPties/{{*}}{party}/{{*}}Nm") or _text(
            scope, f"{{*}}RltdPties/{{*}}{party}/{{*}}Pty/{{*}}Nm"
        )
        remittance = " ".join(
            (line.text or "").strip() for line in scope.iterfind("{*}RmtInf/{*}Ustrd") if (line.text or "").strip()
        )
        end_to_end = _text(scope, "{*}Refs/{*}EndToEndId")
        external_id = (
            _text(entry, "{*}AcctSvcrRef")
            or _text(entry, "{*}NtryRef")
            or (end_to_end if end_to_end != "NOTPROVIDED" else "")
            or _text(scope, "{*}Refs/{*}AcctSvcrRef")
        )
        if part is not None:
            own = _text(scope, "{*}Refs/{*}AcctSvcrRef") or (end_to_end if end_to_end != "NOTPROVIDED" else "")
            external_id = own or (f"{external_id}/{part[0]}" if external_id else "")
        notes = _text(entry, "{*}AddtlNtryInf") or _text(scope, "{*}AddtlTxInf")
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
