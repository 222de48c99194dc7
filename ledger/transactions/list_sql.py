"""The transactions list as SQL: one statement per filter shape, put together
once per process and kept; a request binds its own values.

The list is the API's most frequent read. Through the ORM, building its
queryset, compiling it and turning rows into dicts cost more than PostgreSQL
took to run it (bench/ledger.py at 100k rows among 1M: ~5 ms of ~10 ms CPU a
first page). A shape is which filters are set (and the tag count and mode,
the anomaly and attachment choices, the ordering, shallow or deep, keyset):
its WHERE and ORDER BY come from the fixed fragments below, one per
TransactionFilterSet filter with that filter's semantics (the FilterSet still
validates the parameters; tests/ledger/transactions/test_list_sql.py checks
every filter against the FilterSet's queryset). The ORM path
(selectors.transaction_list) stays for export and bulk edit.
"""

import datetime
import functools
from dataclasses import dataclass, field

import orjson
from django.db import connection

from ledger.models import Attachment, Tag, Transaction
from merchants.models import Merchant

_TX = Transaction._meta.db_table
_MERCHANT = Merchant._meta.db_table
_ATTACHMENT = Attachment._meta.db_table
_TAG = Tag._meta.db_table
_TX_TAGS = Transaction.tags.through._meta.db_table


def _col(name: str) -> str:
    return f'"{_TX}"."{name}"'


# Read as text and parsed here: Django's timestamptz loader is psycopg's pure-Python one
# (~1.2 ms CPU of a 50-row page for two columns; datetime.fromisoformat, in C, ~0.1 ms).
_TIMESTAMPS = ("reconciled_at", "created_at", "updated_at")
# Ids as text too: psycopg builds a uuid.UUID per value and the API prints it back (two Python
# calls per id); the row's ids are the API's strings.
_AS_TEXT = (*_TIMESTAMPS, "id", "account_id", "transfer_id", "merchant_id")
# selectors.ROW_FIELDS, in order, with the dict keys the ORM's values() gives them.
_SELECT = ", ".join(
    [
        *(
            f"{_col(name)}{'::text' if name in _AS_TEXT else ''} AS \"{name}\""
            for name in (
                "id", "account_id", "kind", "transfer_id", "reconciled_at", "amount", "currency", "amount_base",
                "base_currency", "rate_date", "date", "merchant_raw", "merchant_id",
            )
        ),
        f'"{_MERCHANT}"."canonical_name" AS "merchant__canonical_name"',
        f'"{_MERCHANT}"."category" AS "merchant__category"',
        *(
            f"{_col(name)}{'::text' if name in _AS_TEXT else ''} AS \"{name}\""
            for name in (
                "category", "source", "notes", "external_id", "confidence", "anomaly_score", "created_at",
                "updated_at",
            )
        ),
        f'(SELECT count(*) FROM "{_ATTACHMENT}" a WHERE a.transaction_id = {_col("id")}) AS "attachment_count"',
        f'ARRAY(SELECT t.name FROM "{_TAG}" t JOIN "{_TX_TAGS}" tt ON tt.tag_id = t.id '
        f'WHERE tt.transaction_id = {_col("id")} ORDER BY t.name) AS "tag_names"',
    ]
)  # fmt: skip
ROW_NAMES = (
    "id", "account_id", "kind", "transfer_id", "reconciled_at", "amount", "currency", "amount_base",
    "base_currency", "rate_date", "date", "merchant_raw", "merchant_id", "merchant__canonical_name",
    "merchant__category", "category", "source", "notes", "external_id", "confidence", "anomaly_score",
    "created_at", "updated_at", "attachment_count", "tag_names",
)  # fmt: skip
_FROM = f'"{_TX}" LEFT OUTER JOIN "{_MERCHANT}" ON ({_col("merchant_id")} = "{_MERCHANT}"."id")'
_CONFIDENCE = Transaction._meta.get_field("confidence")

# TransactionFilterSet's plain filters: name -> (column, operator), in the FilterSet's order.
_COMPARISONS = {
    "since": ("date", ">="),
    "until": ("date", "<="),
    "category": ("category", "="),
    "source": ("source", "="),
    "min_amount": ("amount", ">="),
    "max_amount": ("amount", "<="),
    "merchant": ("merchant_id", "="),
    "account": ("account_id", "="),
    "kind": ("kind", "="),
}
_ATTACHED = f'EXISTS(SELECT 1 FROM "{_ATTACHMENT}" U0 WHERE U0."transaction_id" = {_col("id")})'
# TagFilter: tag names compare lower-cased (the filter lower-cases the values).
_TAGGED = (
    f'EXISTS(SELECT 1 FROM "{_TX_TAGS}" U0 INNER JOIN "{_TAG}" U1 ON (U0."tag_id" = U1."id") '
    f'WHERE U0."transaction_id" = {_col("id")} AND LOWER(U1."name") {{}})'
)
# The ORM's exclude() of a nullable comparison: a row without a score is not anomalous.
_SCORE = _col("anomaly_score")
_ANOMALOUS = {"true": f"{_SCORE} > 0.5", "false": f"NOT ({_SCORE} > 0.5 AND {_SCORE} IS NOT NULL)"}
_ORDERINGS = {"date": "date", "amount": "amount"}  # TransactionOrderingFilter's fields


@dataclass(frozen=True)
class ListFilters:
    """A TransactionFilterSet's cleaned values, the empty ones dropped, as the
    list's statement takes them: ``values`` in _COMPARISONS' order."""

    values: tuple = ()  # ((name, value), ...)
    q: str = ""
    anomalous: str = ""
    has_attachments: bool | None = None
    tags: tuple = ()
    tag_mode: str = "any"
    ordering: str = "-date"

    @classmethod
    def from_cleaned(cls, cleaned: dict) -> "ListFilters":
        # django-filter skips a filter whose value is empty ([], (), {}, "", None).
        values = tuple((name, cleaned[name]) for name in _COMPARISONS if cleaned.get(name) not in (None, ""))
        ordering = cleaned.get("ordering") or []
        return cls(
            values=values,
            q=(cleaned.get("q") or "").strip(),
            anomalous=cleaned.get("anomalous") or "",
            has_attachments=cleaned.get("has_attachments"),
            tags=tuple(cleaned.get("tag") or ()),
            tag_mode=cleaned.get("tag_mode") or "any",
            ordering=ordering[0] if ordering else "-date",
        )

    def shape(self) -> tuple:
        tags = (self.tag_mode, len(self.tags) if self.tag_mode == "all" else bool(self.tags)) if self.tags else None
        return (
            tuple(name for name, _ in self.values),
            bool(self.q),
            self.anomalous,
            self.has_attachments,
            tags,
            self.ordering,
        )

    def params(self) -> list:
        params = [value for _, value in self.values]
        if self.q:
            params.append(self.q)
        if self.tags:
            params += list(self.tags) if self.tag_mode == "all" else [list(self.tags)]
        return params


@dataclass(frozen=True)
class _Statements:
    where: str
    order: str
    page: str = field(init=False)
    deep: str = field(init=False)
    count: str = field(init=False)
    keyset: str = field(init=False)

    def __post_init__(self):
        ids = f'SELECT {_col("id")} FROM "{_TX}" WHERE {self.where} ORDER BY {self.order} LIMIT %s OFFSET %s'
        set_ = functools.partial(object.__setattr__, self)
        set_("page", f"SELECT {_SELECT} FROM {_FROM} WHERE {self.where} ORDER BY {self.order} LIMIT %s OFFSET %s")
        # A deep page picks its ids first (selectors.transaction_page says why), then reads those rows.
        set_("deep", f"SELECT {_SELECT} FROM {_FROM} WHERE {_col('id')} IN ({ids}) ORDER BY {self.order}")
        # No merchant join for the count (the page's LEFT JOIN only adds columns).
        set_("count", f'SELECT COUNT(*) AS "__count" FROM "{_TX}" WHERE {self.where}')
        op = "<" if self.order.startswith(f"{_col('date')} DESC") else ">"
        after = f"({_col('date')}, {_col('id')}) {op} (%s, %s)"
        set_("keyset", f"SELECT {_SELECT} FROM {_FROM} WHERE {self.where} AND {after} ORDER BY {self.order} LIMIT %s")


@functools.lru_cache(maxsize=512)
def statements(shape: tuple) -> _Statements:
    names, q, anomalous, has_attachments, tags, ordering = shape
    where = [f"NOT {_col('is_deleted')}", f"{_col('user_id')} = %s"]
    where += [f"{_col(_COMPARISONS[name][0])} {_COMPARISONS[name][1]} %s" for name in names]
    if q:  # the generated search_vector's text-search configuration
        where.append(f"{_col('search_vector')} @@ (websearch_to_tsquery('simple'::regconfig, %s))")
    if anomalous:
        where.append(_ANOMALOUS[anomalous])
    if has_attachments is not None:
        where.append(_ATTACHED if has_attachments else f"NOT {_ATTACHED}")
    if tags:
        mode, count = tags
        where += [_TAGGED.format("= %s")] * count if mode == "all" else [_TAGGED.format("= ANY(%s)")]
    descending = ordering.startswith("-")
    column = _ORDERINGS[ordering.lstrip("-")]
    direction = "DESC" if descending else "ASC"
    order = f"{_col(column)} {direction}, {_col('id')} {direction}"
    return _Statements(where=" AND ".join(where), order=order)


def _confidence(text):
    """jsonb arrives as text (Django's loader) and the ORM's JSONField parses it
    (json.loads); orjson reads PostgreSQL's jsonb text to the same values, faster."""
    if text == "{}":
        return {}
    try:
        return orjson.loads(text)
    except (orjson.JSONDecodeError, TypeError):
        return _CONFIDENCE.from_db_value(text, None, connection)


def _rows(sql: str, params: list) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [dict(zip(ROW_NAMES, row, strict=True)) for row in cursor.fetchall()]
    tz = connection.timezone  # what Django's loader gives: the session's time (UTC), in this zone
    for row in rows:
        row["confidence"] = _confidence(row["confidence"])
        for name in _TIMESTAMPS:  # PostgreSQL's ISO text: 2026-12-03 13:07:23.123456+00
            if (value := row[name]) is not None:
                value = datetime.datetime.fromisoformat(value)
                row[name] = value if tz is datetime.UTC else value.astimezone(tz)
    return rows


def page_rows(*, user_id, filters: ListFilters, offset: int, limit: int, deep: bool) -> list[dict]:
    sql = statements(filters.shape())
    return _rows(sql.deep if deep else sql.page, [user_id, *filters.params(), limit, offset])


def keyset_rows(*, user_id, filters: ListFilters, after: tuple | None, limit: int) -> list[dict]:
    sql = statements(filters.shape())
    if after is None:
        return _rows(sql.page, [user_id, *filters.params(), limit, 0])
    return _rows(sql.keyset, [user_id, *filters.params(), *after, limit])


def count(*, user_id, filters: ListFilters) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statements(filters.shape()).count, [user_id, *filters.params()])
        return cursor.fetchone()[0]
