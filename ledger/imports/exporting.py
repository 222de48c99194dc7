"""Streaming CSV / JSON export: rows are read through a server-side cursor
in chunks and written one at a time, so memory stays flat for 1M rows."""

import csv
import json
from itertools import islice

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest

from config.spreadsheets import spreadsheet_safe as _safe
from ledger.models import Account
from ledger.transactions.selectors import transaction_rows
from ledger.transactions.serializers import transaction_row

# "account" is the account's name (unique per user); it comes last so the columns
# before it stay where earlier exports had them.
CSV_COLUMNS = (
    "date", "amount", "currency", "merchant", "category", "notes", "external_id", "source", "id", "tags", "account",
)  # fmt: skip
CHUNK = 2000


class _Echo:
    def write(self, value):
        return value


def stream_csv(queryset, *, user):
    writer = csv.writer(_Echo())
    # The user's few accounts by id: one small query instead of a join on every exported row.
    account_names = dict(Account.objects.filter(user=user).values_list("id", "name"))
    yield writer.writerow(CSV_COLUMNS)
    # Every text cell is made safe, the ones no user types included: a cell is text to a spreadsheet.
    for row in transaction_rows(queryset).iterator(chunk_size=CHUNK):
        yield writer.writerow(
            (
                row["date"].isoformat(),
                f"{row['amount']:.2f}",
                _safe(row["currency"]),
                _safe(row["merchant_raw"]),
                _safe(row["category"]),
                _safe(row["notes"]),
                _safe(row["external_id"]),
                _safe(row["source"]),
                str(row["id"]),
                _safe(";".join(row["tag_names"] or [])),
                _safe(account_names.get(row["account_id"], "")),
            )
        )


def stream_json(queryset):
    yield "["
    separator = ""
    for row in transaction_rows(queryset).iterator(chunk_size=CHUNK):
        yield separator + json.dumps(transaction_row(row))
        separator = ","
    yield "]"


def for_server(request, chunks):
    """Django serves a sync iterator under ASGI by reading all of it into a
    list first (1M rows in memory). Under ASGI, hand it an async iterator
    that pulls the sync one a batch at a time, in the request's own thread
    (the server-side cursor belongs to that thread's connection)."""
    if not isinstance(getattr(request, "_request", request), ASGIRequest):
        return chunks
    take = sync_to_async(lambda: list(islice(chunks, 200)), thread_sensitive=True)

    async def pull():
        while batch := await take():
            for part in batch:
                yield part

    return pull()
