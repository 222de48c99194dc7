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


def _statement(*rows) -> bytes:
    lines = ["date,amount,currency,merchant,category,notes,external_id,source,id"]
    lines += [f"{day},{amount},USD,{merchant},,,,csv," for day, amount, merchant in rows]
    return ("\n".join(lines) + "\n").encode()


def test_rows_hold_the_ids_they_become_and_the_api_shows_them_once_written(auth_client, user):
    account = AccountFactory(user=user, name="Checking", currency="USD")
    Transaction.objects.create(user=user, account=account, amount=Decimal("4.00"), date="2026-03-02",
                               merchant_raw="Bakery", merchant_normalized="bakery")  # fmt: skip
    content = _statement(("2026-03-01", "10.00", "Cinema"), ("2026-03-02", "4.00", "Bakery"),
                         ("2026-03-03", "7.00", "Books"), ("2026-03-04", "8.00", "Fuel"))  # fmt: skip
    preview = auth_client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("s.csv", content), "account": str(account.id)},
        format="multipart",
    ).json()  # fmt: skip
    rows = {row.row_number: row for row in ImportRow.objects.filter(source_import_id=preview["id"])}
    # Stored with the preview: a new row's future id; the duplicate has none; the API shows none yet.
    assert [rows[n].fate for n in (2, 3, 4, 5)] == ["new", "duplicate", "new", "new"]
    assert rows[2].transaction_id and rows[4].transaction_id and rows[3].transaction_id is None
    assert all(row["transaction_id"] is None for row in preview["rows"])
    planned = {n: rows[n].transaction_id for n in (2, 4, 5)}

    committed = auth_client.post(
        f"/api/v1/imports/{preview['id']}/commit", {"force_rows": [3], "skip_rows": [5]}, format="json"
    )

    assert committed.status_code == 200, committed.json()
    rows = {row.row_number: row for row in ImportRow.objects.filter(source_import_id=preview["id"])}
    written = {tx.id: tx for tx in Transaction.objects.filter(source_import_id=preview["id"])}
    # The new rows became the ids they held; the forced duplicate got one; the skipped row gave its up.
    assert (rows[2].transaction_id, rows[4].transaction_id) == (planned[2], planned[4])
    assert rows[5].transaction_id is None
    assert set(written) == {rows[2].transaction_id, rows[3].transaction_id, rows[4].transaction_id}
    assert [written[rows[n].transaction_id].merchant_raw for n in (2, 3, 4)] == ["Cinema", "Bakery", "Books"]
    page = auth_client.get(f"/api/v1/imports/{preview['id']}").json()["rows"]["results"]
    shown = {row["row"]: row["transaction_id"] for row in page}
    assert shown == {2: str(planned[2]), 3: str(rows[3].transaction_id), 4: str(planned[4]), 5: None}


def test_a_row_the_ledger_made_a_duplicate_since_the_preview_gives_its_id_up(auth_client, user):
    account = AccountFactory(user=user, name="Checking", currency="USD")
    content = _statement(("2026-03-01", "10.00", "Cinema"), ("2026-03-03", "7.00", "Books"))
    preview = auth_client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("s.csv", content), "account": str(account.id)},
        format="multipart",
    ).json()  # fmt: skip
    assert ImportRow.objects.filter(source_import_id=preview["id"], transaction__isnull=False).count() == 2
    # Meanwhile the same cinema row is entered by hand: at commit it is a duplicate.
    Transaction.objects.create(user=user, account=account, amount=Decimal("10.00"), date="2026-03-01",
                               merchant_raw="Cinema", merchant_normalized="cinema")  # fmt: skip

    auth_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json")

    rows = {row.row_number: row for row in ImportRow.objects.filter(source_import_id=preview["id"])}
    assert (rows[2].fate, rows[2].transaction_id) == ("duplicate", None)
    assert rows[3].fate == "new"
    assert list(Transaction.objects.filter(source_import_id=preview["id"]).values_list("id", flat=True)) == [
        rows[3].transaction_id
    ]


def test_a_preview_stored_before_rows_held_ids_is_linked_as_it_is_written(user, settings):
    settings.LEDGER_IMPORT_COMMIT_BATCH = 2
    account = AccountFactory(user=user, name="Checking", currency="USD")
    content = _statement(("2026-03-01", "10.00", "Cinema"), ("2026-03-03", "7.00", "Books"),
                         ("2026-03-04", "8.00", "Fuel"))  # fmt: skip
    source = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile("s.csv", content))
    ImportRow.objects.filter(source_import=source).update(transaction_id=None)

    done = commits.import_commit(user=user, import_id=source.id, run_async=False)

    assert done.imported_count == 3
    links = dict(ImportRow.objects.filter(source_import=source).values_list("row_number", "transaction_id"))
    written = dict(Transaction.objects.filter(source_import=source).values_list("id", "merchant_raw"))
    assert {written[links[n]] for n in (2, 3, 4)} == {"Cinema", "Books", "Fuel"}
