"""What a rule condition can look at: each field's type and how to read it
from a transaction (Python, for new rows) and from the database (SQL, for
preview and apply over existing rows). Text is compared case-insensitively."""

from dataclasses import dataclass

from django.db.models import F
from django.db.models.functions import Abs, Coalesce, ExtractDay, ExtractIsoWeekDay

from ledger.models import Transaction

TEXT, NUMBER, DATE, CHOICE, TAGS = "text", "number", "date", "choice", "tags"

OPS = {
    TEXT: ("eq", "ne", "contains", "starts_with", "ends_with", "regex", "in", "is_empty"),
    NUMBER: ("eq", "ne", "gt", "gte", "lt", "lte", "between", "approx", "in"),
    DATE: ("eq", "ne", "gt", "gte", "lt", "lte", "between"),
    CHOICE: ("eq", "ne", "in"),
    TAGS: ("contains", "in", "is_empty"),
}
ALL_OPS = sorted({op for ops in OPS.values() for op in ops})


def _has_column(name: str) -> bool:
    return any(f.name == name for f in Transaction._meta.get_fields())


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    # The ORM expression to filter on, or None when the ledger has no such
    # column yet (the value is then always empty and the leaf a constant).
    orm: str | None
    annotation: object = None


def _fields() -> dict[str, Field]:
    account = _has_column("account")
    return {
        f.name: f
        for f in (
            Field("merchant_raw", TEXT, "merchant_raw"),
            # The matched merchant's name, or the bank's text while no merchant is matched (what the list
            # shows as the merchant): `merchant contains "AMZN"` also finds an AMZN row the catalogue missed.
            Field("merchant", TEXT, "_rule_merchant", Coalesce(F("merchant__canonical_name"), F("merchant_raw"))),
            Field("notes", TEXT, "notes"),
            Field("amount", NUMBER, "amount"),
            Field("abs_amount", NUMBER, "_rule_abs_amount", Abs("amount")),
            Field("direction", CHOICE, "amount"),
            Field("currency", TEXT, "currency"),
            Field("date", DATE, "date"),
            Field("weekday", NUMBER, "_rule_weekday", ExtractIsoWeekDay("date")),
            Field("day_of_month", NUMBER, "_rule_day", ExtractDay("date")),
            Field("account", TEXT, "account__name" if account else None),
            Field("account_kind", TEXT, "account__kind" if account else None),
            Field("category", TEXT, "category"),
            Field("bank_category", TEXT, "bank_category" if _has_column("bank_category") else None),
            Field("tags", TAGS, "tags"),
            Field("source", TEXT, "source"),
        )
    }


FIELDS = _fields()
WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


def annotate_for_rules(queryset, fields):
    """Add the computed columns (|amount|, weekday, day of month) the given
    fields filter on; PostgreSQL evaluates them in the WHERE only."""
    extra = {FIELDS[name].orm: FIELDS[name].annotation for name in fields if FIELDS[name].annotation is not None}
    return queryset.annotate(**extra) if extra else queryset


class Draft:
    """The parts of a transaction rules read and change, as plain
    attributes: built from a model instance (manual entry, apply) or from an
    import's parsed row without the cost of a model instance."""

    __slots__ = (
        "id",
        "merchant_raw",
        "merchant_id",
        "merchant_name",
        "notes",
        "amount",
        "currency",
        "date",
        "category",
        "confidence",
        "source",
        "tags",
        "account_name",
        "account_kind",
        "bank_category",
        "kind",
        "split",
        "has_split",
        "transfer",  # (target account id or None, rule id) once a mark_transfer action ran
    )

    def __init__(self, **values):
        # Spelled out, not a setattr loop over __slots__: an import builds one per row.
        get = values.get
        self.id, self.merchant_raw, self.merchant_id = get("id"), get("merchant_raw"), get("merchant_id")
        self.merchant_name, self.notes, self.amount = get("merchant_name"), get("notes"), get("amount")
        self.currency, self.date, self.category = get("currency"), get("date"), get("category")
        self.confidence, self.source = get("confidence") or {}, get("source")
        self.tags = list(get("tags") or ())
        self.account_name, self.account_kind = get("account_name"), get("account_kind")
        self.bank_category, self.kind, self.split = get("bank_category"), get("kind"), get("split")
        self.has_split, self.transfer = get("has_split"), get("transfer")

    @classmethod
    def of(cls, tx, tag_names=(), has_split=False):
        account = getattr(tx, "account", None) if FIELDS["account"].orm else None
        return cls(
            id=tx.id,
            merchant_raw=tx.merchant_raw,
            merchant_id=tx.merchant_id,
            merchant_name=tx.merchant.canonical_name if tx.merchant_id else "",
            notes=tx.notes,
            amount=tx.amount,
            currency=tx.currency,
            date=tx.date,
            category=tx.category,
            confidence=dict(tx.confidence or {}),
            source=tx.source,
            tags=list(tag_names),
            account_name=account.name if account else "",
            account_kind=account.kind if account else "",
            bank_category=getattr(tx, "bank_category", ""),
            kind=getattr(tx, "kind", None),
            has_split=has_split,
        )


# Each field's value as conditions see it (text lowered), as a Python
# expression over a draft `d`: the scanner (engine.RuleSet) inlines these, and
# the getters below are the same expressions as functions.
FACT_SOURCES = {
    "merchant_raw": '(d.merchant_raw or "").lower()',
    "merchant": '(d.merchant_name or d.merchant_raw or "").lower()',
    "notes": '(d.notes or "").lower()',
    "amount": "d.amount",
    "abs_amount": "abs(d.amount)",
    "direction": '("out" if d.amount > 0 else "in")',
    "currency": '(d.currency or "").lower()',
    "date": "d.date",
    "weekday": "d.date.isoweekday()",
    "day_of_month": "d.date.day",
    "account": '(d.account_name or "").lower()',
    "account_kind": '(d.account_kind or "").lower()',
    "category": '(d.category or "").lower()',
    "bank_category": '(d.bank_category or "").lower()',
    "tags": "frozenset(t.lower() for t in d.tags)",
    "source": '(d.source or "").lower()',
}
_GETTERS = {name: eval(f"lambda d: {source}") for name, source in FACT_SOURCES.items()}  # noqa: S307 (constants)

# The facts a change (engine.Change.field) can move: only these make later rules be asked again.
CHANGE_FACTS = {
    "category": frozenset({"category"}),
    "merchant": frozenset({"merchant"}),
    "notes": frozenset({"notes"}),
    "tags": frozenset({"tags"}),
}


def fact_getters(fields):
    return tuple((name, _GETTERS[name]) for name in fields)


def facts(draft: Draft, getters) -> dict:
    """A draft's field values as conditions see them (text lowered)."""
    return {name: get(draft) for name, get in getters}
