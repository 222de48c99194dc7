"""SWIFT MT940 through the mt-940 package (mt940.models.Transactions).

:61: gives date, amount (C/D), customer and bank reference; :86: is free
text whose structure varies by bank: the Dutch/SEPA /NAME/…/REMI/… tags
and the German ?20-?29 purpose / ?32-?33 name subfields are read, else the
whole text is the description."""

import datetime
import re
from decimal import Decimal

import mt940

from .entries import EntriesParse, Entry
from .types import ImportFileError, Profile, Statement
from .values import CENT, decode

_SLASH_TAG = re.compile(r"/(NAME|REMI|EREF|USTD|ORDP|BENM|IBAN|BIC|TRTP|CSID|MARF|SVCL|ID)/", re.IGNORECASE)
_GERMAN = re.compile(r"\?(\d{2})")
_BALANCE = re.compile(r"(?m)^:6([02])[FM]?:([DC])\d{6}[A-Z]{3}([\d,]*)")
# SWIFT :61: transaction type identification codes (N + 3 letters) a row without details is named by.
_TYPE_CODES = {
    "BOE": "Bill of exchange", "BRF": "Brokerage fee", "CHG": "Charges", "CHK": "Cheque", "CLR": "Cash letter",
    "CMI": "Cash management", "COL": "Collection", "COM": "Commission", "DCR": "Documentary credit",
    "DDT": "Direct debit", "DIV": "Dividend", "ECK": "Eurocheque", "EQA": "Equivalent amount",
    "FEX": "Foreign exchange", "INT": "Interest", "LBX": "Lock box", "LDP": "Loan deposit", "MSC": "Miscellaneous",
    "RTI": "Returned item", "SEC": "Securities", "STO": "Standing order", "TCK": "Travellers cheque",
    "TRF": "Transfer", "VDA": "Value date adjustment",
}  # fmt: skip
_LEADING_IBAN = re.compile(r"^[A-Z]{2}\d{12,32}")
_EMPTY_REFERENCES = {"", "NONREF", "NOTPROVIDED"}


def _details(text: str) -> tuple[str, str]:
    """(payee, description) from a :86: field."""
    flat = text.replace("\r", "").replace("\n", "")
    if _GERMAN.search(flat):
        parts = _GERMAN.split(flat)
        fields: dict[int, list[str]] = {}
        for code, value in zip(parts[1::2], parts[2::2], strict=False):
            fields.setdefault(int(code), []).append(value.strip())
        purpose = " ".join(v for code in range(20, 30) for v in fields.get(code, []) if v)
        name = " ".join(v for code in (32, 33) for v in fields.get(code, []) if v)
        return name, purpose
    if _SLASH_TAG.search(flat):
        pieces = _SLASH_TAG.split(flat)
        fields_by_tag: dict[str, str] = {}
        for tag, value in zip(pieces[1::2], pieces[2::2], strict=False):
            fields_by_tag.setdefault(tag.upper(), value.strip("/ "))
        name = fields_by_tag.get("NAME", "")
        remittance = fields_by_tag.get("REMI", "") or fields_by_tag.get("USTD", "")
        return name, remittance or flat.strip()
    return "", flat.strip()


def _read(text: str):
    try:
        transactions = mt940.models.Transactions()
        transactions.parse(text)
        return transactions
    except Exception as exc:  # mt-940 raises bare exceptions for malformed tags
        failure = exc
    # ASN Bank (and others) write the counterparty IBAN, up to 34 characters, where :61: allows a
    # 16-character customer reference; mt-940's StatementASNB reads that wider field.
    try:
        transactions = mt940.models.Transactions(tags={61: mt940.tags.StatementASNB()})
        transactions.parse(text)
        return transactions
    except Exception:
        pass
    detail = str(failure).strip().splitlines()[0][:300] if str(failure).strip() else type(failure).__name__
    raise ImportFileError("bad_mt940", f"The MT940 file could not be read: {detail}",
                          "Download the statement again, or as CAMT.053 or CSV.")  # fmt: skip


def parse_mt940(content: bytes, profile: Profile | None) -> EntriesParse:
    text = decode(content, profile.encoding if profile else "")
    transactions = _read(text)
    data = transactions.data
    statement = Statement(account_ref=str(data.get("account_identification", "") or ""))
    opening = data.get("final_opening_balance")
    if opening is not None:
        statement.currency = opening.amount.currency or ""
    statement.opening_balance, statement.closing_balance = _bracket(text)
    return EntriesParse("mt940", profile, _entries(transactions, statement), statement)


def _structured(data: dict) -> tuple[str, str]:
    """(payee, description) from what mt-940's processors made of a German structured :86:
    (?00 posting text, ?20-?29 purpose, ?32-?33 name: Sparkassen, Volksbanken, Deutsche Bank):
    they replace transaction_details with these keys, so without them every row of such a file
    had no payee and no description."""

    def text(key: str) -> str:
        return " ".join(str(data.get(key) or "").split())

    # mt-940 runs ?31 (the counterparty's IBAN) into ?32's name: "DE1210050000...Stadtwerke".
    payee = _LEADING_IBAN.sub("", text("applicant_name")).strip()
    purpose = text("purpose") or text("additional_purpose")
    posting = text("posting_text")
    description = purpose or " ".join(part for part in (posting, text("end_to_end_reference")) if part)
    if not (payee or description):
        description = text("non_swift_text")  # a bank's own numbered subfields (non-SWIFT ?-less lines)
    return payee, description


def _bracket(text: str) -> tuple[Decimal | None, Decimal | None]:
    """The opening and closing balances that bracket every row of the file. A file
    often holds several statements (one per day, or a statement continued with
    :60M:/:62M:), and their :20: references may all be the same: the first opening
    and the last closing bracket the rows when each statement opens at the
    balance the one before it closed at; otherwise the file cannot be checked."""
    pairs: list[list[Decimal | None]] = []
    for match in _BALANCE.finditer(text):
        value = Decimal(match.group(3).replace(",", ".").rstrip(".") or "0").quantize(CENT)
        value = -value if match.group(2) == "D" else value
        if match.group(1) == "0":
            pairs.append([value, None])
        elif pairs and pairs[-1][1] is None:
            pairs[-1][1] = value
    if not pairs or any(closing is None for _, closing in pairs):
        return None, None
    if any(later[0] != earlier[1] for earlier, later in zip(pairs, pairs[1:], strict=False)):
        return None, None
    return pairs[0][0], pairs[-1][1]


def _signed(value, mark: str | None):
    """The bank's signed amount from the :61: debit/credit mark: D and RC (reversal of a
    credit) take money out, C and RD (reversal of a debit) put it back; mt-940 itself
    negates a plain D only, so a reversed credit would read as money in."""
    mark = (mark or "").upper()
    return -abs(value) if mark in ("D", "RC") else abs(value)


def _references(data: dict) -> list[str]:
    """The row's candidate ids, best first: the customer's reference, the bank's, a structured EREF+."""
    found = []
    for key in ("customer_reference", "bank_reference", "end_to_end_reference"):
        value = str(data.get(key) or "").strip()
        if value and value.upper() not in _EMPTY_REFERENCES:
            found.append(value)
    return found


def _shared(transactions) -> set[str]:
    """References that several different transactions carry (Sberbank writes X in every :61:,
    other banks a batch or mandate reference): not an id, or all but the first row would be
    taken for duplicates of it. mt-940 holds the whole file already, so this costs one pass."""
    seen: dict[str, tuple] = {}
    shared = set()
    for transaction in transactions:
        data = transaction.data
        amount = data.get("amount")
        key = (data.get("date"), amount.amount if amount is not None else None, data.get("status"))
        for reference in _references(data):
            if seen.setdefault(reference, key) != key:
                shared.add(reference)
    return shared


def _entries(transactions, statement: Statement):
    shared = _shared(transactions)
    for number, transaction in enumerate(transactions, start=1):
        data = transaction.data
        raw = {key: str(value) for key, value in data.items() if value not in (None, "")}
        payee, description = _details(data.get("transaction_details", "") or "")
        if not (payee or description):
            payee, description = _structured(data)
        if not (payee or description):  # an empty :86:: the :61: supplementary details, else its type code
            code = str(data.get("id") or "").strip().upper()
            description = " ".join(str(data.get("extra_details") or "").split()) or _TYPE_CODES.get(code[1:], "")
        amount = data.get("amount")
        external_id = next((reference for reference in _references(data) if reference not in shared), "")
        date = data.get("date")
        yield Entry(
            number,
            raw,
            date=None if date is None else datetime.date(date.year, date.month, date.day),
            bank_amount=_signed(amount.amount, data.get("status")) if amount is not None else None,
            payee=payee,
            description=description,
            currency=(amount.currency if amount is not None else "") or statement.currency,
            external_id=external_id,
        )
