"""SWIFT MT940 through the mt-940 package (mt940.models.Transactions).

:61: gives date, amount (C/D), customer and bank reference; :86: is free
text whose structure varies by bank: the Dutch/SEPA /NAME/…/REMI/… tags
and the German ?20-?29 purpose / ?32-?33 name subfields are read, else the
whole text is the description."""

import datetime
import re

import mt940

from .entries import EntriesParse, Entry
from .types import ImportFileError, Profile, Statement
from .values import decode

_SLASH_TAG = re.compile(r"/(NAME|REMI|EREF|USTD|ORDP|BENM|IBAN|BIC|TRTP|CSID|MARF|SVCL|ID)/", re.IGNORECASE)
_GERMAN = re.compile(r"\?(\d{2})")
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


def parse_mt940(content: bytes, profile: Profile | None) -> EntriesParse:
    text = decode(content, profile.encoding if profile else "")
    transactions = mt940.models.Transactions()
    try:
        transactions.parse(text)
    except Exception as exc:  # mt-940 raises bare exceptions for malformed tags
        raise ImportFileError("bad_mt940", f"The MT940 file could not be read: {exc}")
    data = transactions.data
    statement = Statement(account_ref=str(data.get("account_identification", "") or ""))
    opening = data.get("final_opening_balance")
    closing = data.get("final_closing_balance")
    if opening is not None:
        statement.opening_balance = opening.amount.amount
        statement.currency = opening.amount.currency or ""
    if closing is not None:
        statement.closing_balance = closing.amount.amount
    if len({t.data.get("transaction_reference") for t in transactions}) > 1:
        # mt-940 keeps the last statement's balances only; they do not bracket all the rows.
        statement.opening_balance = statement.closing_balance = None
    return EntriesParse("mt940", profile, _entries(transactions, statement), statement)


def _entries(transactions, statement: Statement):
    for number, transaction in enumerate(transactions, start=1):
        data = transaction.data
        raw = {key: str(value) for key, value in data.items() if value not in (None, "")}
        payee, description = _details(data.get("transaction_details", "") or "")
        amount = data.get("amount")
        customer = (data.get("customer_reference") or "").strip()
        bank = (data.get("bank_reference") or "").strip()
        external_id = customer if customer.upper() not in _EMPTY_REFERENCES else bank
        if external_id.upper() in _EMPTY_REFERENCES:
            external_id = ""
        date = data.get("date")
        yield Entry(
            number,
            raw,
            date=None if date is None else datetime.date(date.year, date.month, date.day),
            bank_amount=amount.amount if amount is not None else None,
            payee=payee,
            description=description,
            currency=(amount.currency if amount is not None else "") or statement.currency,
            external_id=external_id,
        )
