"""Built-in bank profiles, chosen by header signature, and the generic
synonym mapping used when no signature matches.

Each layout was written from that bank's export as shown in public importer
code, bank help pages and sample files (see the comments per profile and the
test modules for the sources followed)."""

import re
import unicodedata

from .types import ImportFileError, Profile

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_SPACES = re.compile(r"\s+")


def normalise(name: str) -> str:
    """Header names compared case- and accent-insensitively ("Währung" == "Waehrung")."""
    text = name.strip().strip("\ufeff").strip().strip('"').strip().lower().translate(_UMLAUTS)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return _SPACES.sub(" ", text)


def _sig(*names: str) -> tuple[str, ...]:
    return tuple(normalise(name) for name in names)


CHASE_CATEGORIES = {
    "Food & Drink": "Food & Dining",
    "Gas": "Transport",
    "Automotive": "Transport",
    "Groceries": "Groceries",
    "Bills & Utilities": "Bills & Utilities",
    "Travel": "Travel",
    "Shopping": "Shopping",
    "Entertainment": "Entertainment",
    "Health & Wellness": "Health",
    "Personal": "Personal Care",
    "Fees & Adjustments": "Fees & Charges",
    "Education": "Education",
    "Home": "Housing",
}
MONZO_CATEGORIES = {
    "Eating out": "Food & Dining",
    "Groceries": "Groceries",
    "Transport": "Transport",
    "Shopping": "Shopping",
    "Bills": "Bills & Utilities",
    "Entertainment": "Entertainment",
    "Holidays": "Travel",
    "Personal care": "Personal Care",
    "Income": "Income",
    "Transfers": "Transfers",
}
STARLING_CATEGORIES = {
    "EATING_OUT": "Food & Dining",
    "GROCERIES": "Groceries",
    "TRANSPORT": "Transport",
    "SHOPPING": "Shopping",
    "BILLS_AND_SERVICES": "Bills & Utilities",
    "ENTERTAINMENT": "Entertainment",
    "HOLIDAYS": "Travel",
    "PERSONAL_CARE": "Personal Care",
    "INCOME": "Income",
    "TRANSFERS": "Transfers",
}
_PENDING_REVOLUT = {"column": "State", "op": "in", "value": ["REVERTED", "DECLINED", "PENDING", "FAILED"]}

BUILTIN_PROFILES: dict[str, Profile] = {
    # Chase card "Download account activity" CSV: charges negative, payments positive.
    "chase_credit": Profile(
        name="chase_credit",
        header_signature=_sig("Transaction Date", "Post Date", "Description", "Category", "Type", "Amount", "Memo"),
        date_format="%m/%d/%Y",
        columns={"date": "Transaction Date", "description": "Description", "category": "Category",
                 "amount": "Amount", "notes": "Memo"},
        category_map=CHASE_CATEGORIES,
        currency="USD",
    ),
    # Chase checking/savings: rows carry one more (empty) cell than the header.
    "chase_checking": Profile(
        name="chase_checking",
        header_signature=_sig("Details", "Posting Date", "Description", "Amount", "Type", "Balance", "Check or Slip #"),
        date_format="%m/%d/%Y",
        columns={"date": "Posting Date", "description": "Description", "amount": "Amount", "balance": "Balance",
                 "external_id": "Check or Slip #"},
        currency="USD",
    ),
    # Bank of America checking/savings: a "Description,,Summary Amt." block, a blank
    # line, then the table, which opens with a "Beginning balance as of" row.
    "bofa_checking": Profile(
        name="bofa_checking",
        header_signature=_sig("Date", "Description", "Amount", "Running Bal."),
        date_format="%m/%d/%Y",
        columns={"date": "Date", "description": "Description", "amount": "Amount", "balance": "Running Bal."},
        row_filters=({"column": "Description", "op": "regex", "value": r"(?i)^beginning balance as of"},),
        currency="USD",
    ),
    # American Express, the three-column download: charges positive, credits negative.
    "amex": Profile(
        name="amex",
        header_signature=_sig("Date", "Description", "Amount"),
        date_format="%m/%d/%Y",
        columns={"date": "Date", "description": "Description", "amount": "Amount"},
        sign="positive_is_out",
        currency="USD",
    ),
    # American Express (US) with "Include all additional transaction details".
    "amex_extended": Profile(
        name="amex_extended",
        header_signature=_sig("Date", "Description", "Amount", "Extended Details", "Appears On Your Statement As",
                              "Zip Code", "Reference"),
        date_format="%m/%d/%Y",
        columns={"date": "Date", "description": "Description", "amount": "Amount", "notes": "Extended Details",
                 "external_id": "Reference", "category": "Category"},
        sign="positive_is_out",
        currency="USD",
    ),
    # American Express UK: same extended layout with Town/City and Postcode, dates dd/mm/yyyy.
    "amex_uk": Profile(
        name="amex_uk",
        header_signature=_sig("Date", "Description", "Amount", "Extended Details", "Appears On Your Statement As",
                              "Postcode", "Reference"),
        date_format="%d/%m/%Y",
        columns={"date": "Date", "description": "Description", "amount": "Amount", "notes": "Extended Details",
                 "external_id": "Reference", "category": "Category"},
        sign="positive_is_out",
        currency="GBP",
    ),
    # Capital One card: unsigned Debit (charges) and Credit (payments) columns, ISO dates.
    "capital_one": Profile(
        name="capital_one",
        header_signature=_sig("Transaction Date", "Posted Date", "Card No.", "Description", "Category", "Debit",
                              "Credit"),
        date_format="%Y-%m-%d",
        columns={"date": "Transaction Date", "description": "Description", "category": "Category",
                 "debit": "Debit", "credit": "Credit"},
        sign="positive_is_out",
        currency="USD",
    ),
    # Monzo "Export transactions" CSV: signed Amount, money out negative.
    "monzo": Profile(
        name="monzo",
        header_signature=_sig("Transaction ID", "Date", "Time", "Type", "Name", "Emoji", "Category", "Amount",
                              "Currency"),
        date_format="%d/%m/%Y",
        columns={"date": "Date", "payee": "Name", "description": "Description", "amount": "Amount",
                 "currency": "Currency", "category": "Category", "notes": "Notes and #tags",
                 "external_id": "Transaction ID"},
        category_map=MONZO_CATEGORIES,
        currency="GBP",
    ),
    # Revolut account statement CSV: the fee is charged on top of the amount.
    "revolut": Profile(
        name="revolut",
        header_signature=_sig("Type", "Product", "Started Date", "Completed Date", "Description", "Amount", "Fee",
                              "Currency", "State", "Balance"),
        columns={"date": "Completed Date", "description": "Description", "amount": "Amount", "fee": "Fee",
                 "currency": "Currency", "balance": "Balance"},
        row_filters=(_PENDING_REVOLUT,),
    ),
    # Starling statement CSV.
    "starling": Profile(
        name="starling",
        header_signature=_sig("Date", "Counter Party", "Reference", "Type", "Amount (GBP)", "Balance (GBP)"),
        date_format="%d/%m/%Y",
        columns={"date": "Date", "payee": "Counter Party", "description": "Reference", "amount": "Amount (GBP)",
                 "balance": "Balance (GBP)", "category": "Spending Category", "notes": "Notes"},
        category_map=STARLING_CATEGORIES,
        # The export opens with an "Opening Balance" line of amount 0.00.
        row_filters=({"column": "Counter Party", "op": "eq", "value": "Opening Balance"},),
        currency="GBP",
    ),
    # N26 CSV until 2023.
    "n26": Profile(
        name="n26",
        header_signature=_sig("Date", "Payee", "Account number", "Transaction type", "Payment reference",
                              "Amount (EUR)"),
        date_format="%Y-%m-%d",
        columns={"date": "Date", "payee": "Payee", "description": "Payment reference", "amount": "Amount (EUR)",
                 "category": "Category"},
        currency="EUR",
    ),
    # N26 CSV since 2023/2024.
    "n26_2024": Profile(
        name="n26_2024",
        header_signature=_sig("Booking Date", "Value Date", "Partner Name", "Partner Iban", "Type",
                              "Payment Reference", "Amount (EUR)"),
        date_format="%Y-%m-%d",
        columns={"date": "Booking Date", "payee": "Partner Name", "description": "Payment Reference",
                 "amount": "Amount (EUR)"},
        currency="EUR",
    ),
    # ING Netherlands "Af Bij" CSV (comma-separated, older download).
    "ing_nl": Profile(
        name="ing_nl",
        header_signature=_sig("Datum", "Naam / Omschrijving", "Rekening", "Tegenrekening", "Code", "Af Bij",
                              "Bedrag (EUR)", "Mutatiesoort", "Mededelingen"),
        decimal_separator=",",
        columns={"date": "Datum", "payee": "Naam / Omschrijving", "description": "Mededelingen",
                 "amount": "Bedrag (EUR)"},
        direction_column="Af Bij",
        direction_out_values=("Af",),
        direction_in_values=("Bij",),
        currency="EUR",
    ),
    # ING Netherlands since 2020: semicolons, plus "Saldo na mutatie" and "Tag".
    "ing_nl_2020": Profile(
        name="ing_nl_2020",
        header_signature=_sig("Datum", "Naam / Omschrijving", "Rekening", "Tegenrekening", "Code", "Af Bij",
                              "Bedrag (EUR)", "Mutatiesoort", "Mededelingen", "Saldo na mutatie", "Tag"),
        decimal_separator=",",
        columns={"date": "Datum", "payee": "Naam / Omschrijving", "description": "Mededelingen",
                 "amount": "Bedrag (EUR)", "balance": "Saldo na mutatie", "notes": "Tag"},
        direction_column="Af Bij",
        direction_out_values=("Af",),
        direction_in_values=("Bij",),
        currency="EUR",
    ),
    # Sparkasse "CSV-CAMT" export: Windows-1252, semicolons, dd.mm.yy, decimal comma.
    "sparkasse": Profile(
        name="sparkasse",
        header_signature=_sig("Auftragskonto", "Buchungstag", "Valutadatum", "Buchungstext", "Verwendungszweck",
                              "Beguenstigter/Zahlungspflichtiger", "Betrag", "Waehrung", "Info"),
        delimiter=";",
        date_format="%d.%m.%y",
        decimal_separator=",",
        columns={"date": "Buchungstag", "payee": "Beguenstigter/Zahlungspflichtiger",
                 "description": "Verwendungszweck", "notes": "Buchungstext", "amount": "Betrag",
                 "currency": "Waehrung"},
        row_filters=({"column": "Info", "op": "regex", "value": r"(?i)vorgemerkt"},),
        currency="EUR",
    ),
    # HDFC Bank (India) account statement, "Delimited"/CSV: dd/mm/yy, lakh grouping.
    "hdfc": Profile(
        name="hdfc",
        header_signature=_sig("Date", "Narration", "Chq./Ref.No.", "Value Dt", "Withdrawal Amt.", "Deposit Amt.",
                              "Closing Balance"),
        date_format="%d/%m/%y",
        columns={"date": "Date", "description": "Narration", "notes": "Chq./Ref.No.", "debit": "Withdrawal Amt.",
                 "credit": "Deposit Amt.", "balance": "Closing Balance"},
        currency="INR",
    ),
    # Tally's own CSV export (ledger/exporting.py): amounts already in Tally's sign.
    "tally": Profile(
        name="tally",
        header_signature=_sig("date", "amount", "currency", "merchant", "category", "notes", "external_id", "source",
                              "id"),
        date_format="%Y-%m-%d",
        columns={"date": "date", "amount": "amount", "currency": "currency", "payee": "merchant",
                 "category": "category", "notes": "notes", "external_id": "external_id", "tags": "tags"},
        sign="positive_is_out",
    ),
}  # fmt: skip

# Signatures so generic that only the exact header may select them.
EXACT_SIGNATURES = {"amex"}

SYNONYMS: dict[str, tuple[str, ...]] = {
    "date": ("date", "transaction date", "booking date", "posting date", "posted date", "value date", "datum",
             "buchungstag", "buchungsdatum", "valutadatum", "boekdatum", "transactiedatum", "fecha",
             "fecha operacion", "fecha valor", "date de l'operation", "date operation", "date de valeur",
             "started date", "completed date", "datetime", "date time", "transaction datetime"),
    "amount": ("amount", "betrag", "bedrag", "importe", "montant", "value", "amount (eur)", "amount (gbp)",
               "amount (usd)", "betrag (eur)", "bedrag (eur)", "umsatz", "transaction amount", "net", "net amount",
               "amount (total)"),
    "debit": ("debit", "debit amount", "soll", "af", "debit", "cargo", "cargos", "withdrawal", "withdrawals",
              "withdrawal amt.", "withdrawal amount", "paid out", "money out", "debe", "debet", "uitgaven"),
    "credit": ("credit", "credit amount", "haben", "bij", "credit", "abono", "abonos", "deposit", "deposits",
               "deposit amt.", "deposit amount", "paid in", "money in", "haber", "inkomsten"),
    "payee": ("payee", "merchant", "name", "counter party", "counterparty", "empfaenger",
              "empfaenger/zahlungspflichtiger", "beguenstigter/zahlungspflichtiger",
              "auftraggeber/empfaenger", "auftraggeber/zahlungsempfaenger", "zahlungsempfaenger",
              "name zahlungsbeteiligter", "naam", "naam tegenpartij", "tegenpartij", "beneficiario",
              "beneficiaire", "partner name"),
    "description": ("description", "memo", "details", "narration", "particulars", "reference", "verwendungszweck",
                    "buchungstext", "omschrijving", "naam / omschrijving", "mededelingen", "concepto", "descripcion",
                    "libelle", "libelle de l'operation", "payment reference", "transaction description",
                    "remarque", "beschreibung", "descrizione", "causale"),
    "balance": ("balance", "running balance", "running bal.", "closing balance", "saldo", "saldo na mutatie",
                "kontostand", "solde", "balance (gbp)", "balance (eur)"),
    "currency": ("currency", "waehrung", "valuta", "munt", "moneda", "devise", "ccy"),
    "category": ("category", "kategorie", "categorie", "categoria", "spending category"),
    "direction": ("debit/credit", "dr/cr", "cr/dr", "af bij", "af/bij", "soll/haben", "s/h", "type debit/credit"),
    "external_id": ("transaction id", "external_id", "external id", "fitid", "reference number", "transaction number"),
    "notes": ("notes", "note", "comment", "comments"),
    "tags": ("tags", "labels"),
}  # fmt: skip
_ROLE_OF = {}
for _role, _names in SYNONYMS.items():
    for _name in _names:
        _ROLE_OF.setdefault(normalise(_name), _role)
_DATE_WORDS = ("date", "datum", "fecha", "buchungstag", "dt", "datetime")
_AMOUNT_WORDS = ("amount", "amt", "betrag", "bedrag", "importe", "montant", "debit", "credit", "withdrawal",
                 "deposit", "soll", "haben", "paid out", "paid in", "umsatz")  # fmt: skip


def looks_like_header(cells: list[str]) -> bool:
    names = [normalise(cell) for cell in cells]
    has_date = any(_ROLE_OF.get(name) == "date" or any(w in name.split() for w in _DATE_WORDS) for name in names)
    has_amount = any(
        _ROLE_OF.get(name) in ("amount", "debit", "credit") or any(word in name for word in _AMOUNT_WORDS)
        for name in names
    )
    return has_date and has_amount


def match_signature(header: list[str]) -> Profile | None:
    names = [normalise(cell) for cell in header]
    present = set(names) - {""}
    best = None
    for key, profile in BUILTIN_PROFILES.items():
        signature = set(profile.header_signature)
        if key in EXACT_SIGNATURES:
            if present != signature or len(names) - names.count("") != len(signature):
                continue
        elif not signature <= present:
            continue
        if best is None or len(signature) > len(best.header_signature):
            best = profile
    return best


def generic_profile(header: list[str]) -> tuple[Profile, list[str]]:
    """Map header cells to roles by synonym; returns the profile and what it guessed."""
    columns: dict[str, str | list[str]] = {}
    guessed = []
    direction = ""
    names = [normalise(cell) for cell in header]
    has_currency_word = any(_ROLE_OF.get(name) == "currency" and name != "valuta" for name in names)
    for cell in header:
        name = normalise(cell)
        role = _ROLE_OF.get(name)
        if role is None:
            if any(word in name.split() for word in _DATE_WORDS) and "value" not in name:
                role = "date"
            elif "amount" in name or "betrag" in name or "bedrag" in name:
                role = "amount"
        if role is None:
            continue
        if role == "currency" and name == "valuta" and has_currency_word:
            continue  # German "Valuta" is the value date when a Waehrung column names the currency
        if role == "direction":
            if not direction:
                direction = cell.strip()
                guessed.append(f"direction={cell.strip()}")
            continue
        if role == "description" and "description" in columns:
            existing = columns["description"]
            columns["description"] = [*([existing] if isinstance(existing, str) else existing), cell.strip()]
            guessed.append(f"description+={cell.strip()}")
            continue
        if role not in columns:
            columns[role] = cell.strip()
            guessed.append(f"{role}={cell.strip()}")
    if "amount" in columns and ("debit" in columns or "credit" in columns):
        columns.pop("debit", None)
        columns.pop("credit", None)
    if "date" not in columns or not ("amount" in columns or "debit" in columns or "credit" in columns):
        raise ImportFileError(
            "bad_header",
            "The header has no recognisable date and amount columns: " + ", ".join(c.strip() for c in header[:12]),
            "Pick a bank profile or map the columns (date, amount or debit/credit, description): "
            + ", ".join(BUILTIN_PROFILES),
        )
    profile = Profile(
        name="generic",
        decimal_separator="",
        columns=columns,
        direction_column=direction,
        direction_out_values=("D", "DR", "DBIT", "Debit", "S", "Soll", "Af", "Debe", "Cargo", "Out", "Withdrawal"),
        direction_in_values=("C", "CR", "CRDT", "Credit", "H", "Haben", "Bij", "Haber", "Abono", "In", "Deposit"),
    )
    return profile, guessed


def detect_profile(header: list[str]) -> tuple[Profile, str]:
    """A built-in profile whose signature the header contains ("signature"),
    else the generic synonym mapping ("generic")."""
    found = match_signature(header)
    if found is not None:
        return found, "signature"
    return generic_profile(header)[0], "generic"
