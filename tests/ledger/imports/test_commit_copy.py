"""What a commit's COPY writes: every cell of every row as the preview
parsed it (texts that need COPY's escapes included), the cells the rows
share, and ids in time order linked from the import's rows."""

import csv
import io
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.imports import commits, previews
from ledger.models import ImportRow, Transaction
from tests.ledger.factories import AccountFactory

pytestmark = pytest.mark.django_db

HEADER = ["date", "amount", "currency", "merchant", "category", "notes", "external_id", "source", "id"]
ROWS = [
    # (date, amount, merchant, category, notes, external id)
    ("2026-03-01", "12.50", "Back\\slash Café", "Groceries", "line one\nline two", "A\\1"),
    ("2026-03-02", "-1000.00", "Tab\tinside", "Income", 'quote " and \\N', ""),
    ("2026-03-03", "0.01", "Ünïcødé ☕", "Not a Tally category", "", "ext-3"),
    ("2026-03-04", "99999.99", "plain", "", "\r\ncarriage", ""),
]


def _csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for day, amount, merchant, category, notes, external in ROWS:
        writer.writerow([day, amount, "USD", merchant, category, notes, external, "csv", ""])
    return out.getvalue().encode()


def test_committed_rows_keep_every_cell_and_share_the_imports_cells(user, settings):
    settings.LEDGER_IMPORT_COMMIT_BATCH = 3  # two batches: the shared cells are written with each
    account = AccountFactory(user=user, name="Checking", currency="USD")
    source = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile("t.csv", _csv()))
    assert source.new_count == len(ROWS)

    done = commits.import_commit(user=user, import_id=source.id, run_async=False)

    assert done.imported_count == len(ROWS)
    links = list(ImportRow.objects.filter(source_import=source).order_by("row_number"))
    stored = {tx.id: tx for tx in Transaction.objects.filter(source_import=source)}
    assert {row.transaction_id for row in links} == set(stored)
    for row, (day, amount, merchant, category, notes, external) in zip(links, ROWS, strict=True):
        tx = stored[row.transaction_id]
        assert (tx.date.isoformat(), tx.amount, tx.merchant_raw, tx.external_id) == (
            day, Decimal(amount), merchant, external
        )  # fmt: skip
        assert tx.notes == notes.strip()
        assert tx.bank_category == category
        assert (tx.user_id, tx.account_id, tx.currency, tx.source, tx.kind) == (
            user.pk, account.pk, "USD", Transaction.Source.IMPORT, Transaction.Kind.STANDARD
        )  # fmt: skip
        assert (tx.is_deleted, tx.deleted_at, tx.transfer_id, tx.blockchain_hash, tx.ipfs_cid) == (
            False, None, None, "", ""
        )  # fmt: skip
        # Already in the user's base currency: copied, no rate date.
        assert (tx.amount_base, tx.base_currency, tx.rate_date) == (Decimal(amount), "USD", None)
        assert tx.created_at == tx.updated_at
        assert isinstance(tx.confidence, dict) and tx.confidence
    by_row = [stored[row.transaction_id] for row in links]
    assert by_row[0].category == "Groceries" and by_row[1].category == "Income"
    assert len({tx.created_at for tx in by_row}) == 1
    # Time-ordered ids (UUIDv7), increasing in the file's order within a batch.
    assert all(uuid.UUID(str(tx.id)).version == 7 for tx in by_row)
    first_batch = [tx.id for tx in by_row[:3]]
    assert first_batch == sorted(first_batch)
