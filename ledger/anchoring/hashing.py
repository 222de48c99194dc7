"""Reading and hashing the ledger for a batch: rows stream through a
server-side cursor and their hashes go back through COPY and one UPDATE, so
memory stays flat however large the batch. The hashing and tree rules are in
ledger/anchoring/merkle.py (standard library only, so the offline verifier
shares them)."""

import logging
import time
import uuid

from django.db import connection

from ledger.anchoring import merkle
from ledger.models import MerkleBatch

logger = logging.getLogger("ledger.anchoring.services")

CHUNK_SIZE = 1024
READ_BATCH = 8 * CHUNK_SIZE

# The hashed facts as the strings ledger/anchoring/merkle.py defines, formatted by
# PostgreSQL so millions of rows need no Python Decimal/datetime objects.
FACT_COLUMNS = """
    t.id::text, t.user_id::text, t.amount::text, t.currency, to_char(t.date, 'YYYY-MM-DD'),
    t.merchant_raw, t.source, to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    t.account_id::text
"""
# Every version's facts are read (the newest is a superset); each hash takes its version's prefix.
FACT_COUNT = len(merkle.FACT_FIELDS_BY_VERSION[max(merkle.FACT_FIELDS_BY_VERSION)])


class AnchoringRaced(Exception):
    """A row changed between being hashed and being stamped; the run rolls
    back and the task retries."""


def row_facts(row, version: int) -> dict[str, str]:
    fields = merkle.FACT_FIELDS_BY_VERSION[version]
    return dict(zip(fields, row[: len(fields)], strict=True))


def hash_row(row, version: int | None = None) -> str:
    """The row's hash under `version` (default: the one new batches use)."""
    version = version or merkle.HASH_VERSION
    return merkle.transaction_hash(row_facts(row, version), version)


def split_blob(blob, size: int) -> list[bytes]:
    blob = bytes(blob)
    return [blob[i : i + size] for i in range(0, len(blob), size)]


# The hashed facts as read, kept beside each hash: the stamping UPDATE only
# touches rows whose facts are still these (category, notes or a soft delete
# in the meantime do not matter; they are not hashed).
_LEAF_COLUMNS = "id uuid, user_id text, amount text, currency text, date text, merchant_raw text, source text, "
_LEAF_COLUMNS += "created_at text, account_id text, hash char(64), leaf_index integer"


class _ChunkWriter:
    """Buffers anchored hashes and ids and writes one MerkleChunk per full
    chunk (and one for the remainder), so memory holds a chunk at most."""

    def __init__(self, batch: MerkleBatch, cursor):
        self.batch, self.cursor, self.hashes, self.ids, self.index = batch, cursor, [], [], 0

    def add(self, tx_hash: str, transaction_id: str) -> None:
        self.hashes.append(bytes.fromhex(tx_hash))
        self.ids.append(uuid.UUID(transaction_id).bytes)

    def _write(self, count: int) -> None:
        # Straight through psycopg: under DEBUG, Django's query log would keep every 48 KB blob.
        self.cursor.execute(
            "INSERT INTO ledger_merklechunk (id, batch_id, chunk_index, transaction_hashes, transaction_ids) "
            "VALUES (%s, %s, %s, %s, %s)",
            [uuid.uuid4(), self.batch.id, self.index, b"".join(self.hashes[:count]), b"".join(self.ids[:count])],
        )
        self.hashes, self.ids, self.index = self.hashes[count:], self.ids[count:], self.index + 1

    def flush_full(self) -> None:
        while len(self.hashes) >= self.batch.chunk_size:
            self._write(self.batch.chunk_size)

    def flush_all(self) -> None:
        self.flush_full()
        if self.hashes:
            self._write(len(self.hashes))


def hash_and_stamp(batch: MerkleBatch) -> tuple[bytes, list[bytes], int]:
    """Streams the batch's rows in leaf order, hashes them into the tree,
    stores each chunk's anchored hashes and ids (MerkleChunk) and stamps
    hash, batch and leaf index on each row (COPY into a temporary table,
    then one UPDATE). A row whose hashed facts changed while it was being
    hashed raises AnchoringRaced, which rolls the whole batch back."""
    started = time.monotonic()
    builder = merkle.ChunkedRootBuilder(batch.chunk_size)
    raw = connection.connection  # inside the caller's atomic block, so connected
    with raw.cursor() as writer:
        chunks = _ChunkWriter(batch, writer)
        # ON COMMIT DROP ends it with the transaction; the DROP covers a caller's outer transaction.
        writer.execute("DROP TABLE IF EXISTS ledger_anchor_leaves")
        writer.execute(f"CREATE TEMP TABLE ledger_anchor_leaves ({_LEAF_COLUMNS}) ON COMMIT DROP")
        with raw.cursor(name="ledger_anchor_rows") as reader:
            reader.execute(
                f"SELECT {FACT_COLUMNS} FROM ledger_transaction t "
                "WHERE t.merkle_batch_id IS NULL AND NOT t.is_deleted AND t.created_at < %s "
                "ORDER BY t.created_at, t.id",
                [batch.cutoff],
            )
            while rows := reader.fetchmany(READ_BATCH):
                with writer.copy("COPY ledger_anchor_leaves FROM STDIN") as copy:
                    for row in rows:
                        tx_hash = hash_row(row)  # a new batch: the current HASH_VERSION
                        copy.write_row((*row, tx_hash, builder.count))
                        builder.add(merkle.leaf_hash(tx_hash))
                        chunks.add(tx_hash, row[0])
                chunks.flush_full()
        chunks.flush_all()
        root, chunk_roots = builder.finish()
        hashed_at = time.monotonic()
        if builder.count:
            writer.execute("ANALYZE ledger_anchor_leaves")
            writer.execute(
                "UPDATE ledger_transaction t SET blockchain_hash = a.hash, merkle_batch_id = %s, "
                "leaf_index = a.leaf_index FROM ledger_anchor_leaves a "
                f"WHERE t.id = a.id AND t.merkle_batch_id IS NULL AND ({FACT_COLUMNS}) = "
                "(a.id::text, a.user_id, a.amount, a.currency, a.date, a.merchant_raw, a.source, a.created_at, "
                "a.account_id)",
                [batch.id],
            )
            if writer.rowcount != builder.count:
                raise AnchoringRaced(f"{builder.count - writer.rowcount} row(s) changed while the batch was hashed")
    logger.info(
        "batch %s: read and hashed %d rows in %.1f s, stamped them in %.1f s",
        batch.batch_date,
        builder.count,
        hashed_at - started,
        time.monotonic() - hashed_at,
    )
    return root, chunk_roots, builder.count


def stream_rows(raw, name: str, sql: str, params):
    with raw.cursor(name=name) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(READ_BATCH):
            yield from rows
