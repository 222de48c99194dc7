"""The tamper-evident ledger: nightly Merkle batches, proofs, verification.

The hashing and tree rules are in ledger/anchoring/merkle.py (standard library only, so
the offline verifier shares them). This module reads and writes the
database: rows stream through a server-side cursor and their hashes go back
through COPY and one UPDATE, so memory stays flat however large the batch.
"""

import datetime
import logging
import time
import uuid
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from config.exceptions import Conflict, DomainError
from ledger.anchoring import merkle
from ledger.anchoring.backends import UnknownAnchorBackend, get_anchor_backend
from ledger.models import MerkleBatch, MerkleChunk, Transaction
from ledger.transactions.selectors import transaction_get_any
from realtime.services import notify_integrity_alert

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024
READ_BATCH = 8 * CHUNK_SIZE
# pg_advisory_xact_lock key: one anchoring run at a time.
ANCHOR_LOCK_KEY = 0x7A11_A7C4
ZERO_LEAF = bytes(32)

# The hashed facts as the strings ledger/anchoring/merkle.py defines, formatted by
# PostgreSQL so millions of rows need no Python Decimal/datetime objects.
FACT_COLUMNS = """
    t.id::text, t.user_id::text, t.amount::text, t.currency, to_char(t.date, 'YYYY-MM-DD'),
    t.merchant_raw, t.source, to_char(t.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
"""
FACT_COUNT = len(merkle.FACT_FIELDS)


class AnchoringRaced(Exception):
    """A row changed between being hashed and being stamped; the run rolls
    back and the task retries."""


@dataclass
class AnchorResult:
    batch_date: datetime.date
    created: bool
    transaction_count: int
    root_hash: str
    anchor_backend: str
    anchor_ref: str
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "batch_date": self.batch_date.isoformat()}


@dataclass
class BatchVerification:
    batch_date: datetime.date
    transaction_count: int
    rows_checked: int = 0
    root_matches: bool = False
    anchor_ok: bool = False
    problem_count: int = 0
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.root_matches and self.anchor_ok and not self.problem_count

    def as_dict(self) -> dict:
        return {**asdict(self), "batch_date": self.batch_date.isoformat(), "ok": self.ok}


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def batch_cutoff(*, batch_date: datetime.date, now: datetime.datetime) -> datetime.datetime:
    """A batch for a given date holds rows created before that day ended
    (UTC), or before now when it has not ended yet."""
    return min(_day_start(batch_date + datetime.timedelta(days=1)), now)


def default_batch_date(now: datetime.datetime) -> datetime.date:
    """The nightly run closes the day that just ended."""
    return now.astimezone(datetime.UTC).date() - datetime.timedelta(days=1)


def _hash_row(row) -> str:
    return merkle.transaction_hash(dict(zip(merkle.FACT_FIELDS, row[:FACT_COUNT], strict=True)))


def _split(blob, size: int) -> list[bytes]:
    blob = bytes(blob)
    return [blob[i : i + size] for i in range(0, len(blob), size)]


def _result(batch: MerkleBatch, *, created: bool, started: float) -> AnchorResult:
    return AnchorResult(
        batch_date=batch.batch_date,
        created=created,
        transaction_count=batch.transaction_count,
        root_hash=batch.root_hash,
        anchor_backend=batch.anchor_backend,
        anchor_ref=batch.anchor_ref,
        seconds=round(time.monotonic() - started, 3),
    )


def ledger_anchor(
    *, batch_date: datetime.date | None = None, now: datetime.datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> AnchorResult:
    """Anchors every unanchored, live transaction created before the batch's
    cut-off into the MerkleBatch for ``batch_date`` (default: yesterday, cut
    off now): tree, leaves and row stamps in one database transaction. The
    root goes to the anchor backend after commit, so a slow or failing
    network backend holds no locks; a batch left without a reference gets
    one on the next run. Otherwise a second run for the date changes nothing."""
    started = time.monotonic()
    now = now or timezone.now()
    if batch_date is None:
        # The nightly run closes yesterday's batch with everything unanchored
        # at the moment it runs: no row waits more than one night, and a manual
        # run (admin, "Run selected tasks") anchors what exists now.
        batch_date, cutoff = default_batch_date(now), now
    else:
        cutoff = batch_cutoff(batch_date=batch_date, now=now)
    if _day_start(batch_date) > now:
        raise DomainError(f"{batch_date} has not started yet; it cannot be anchored.", code="future_batch")
    backend = get_anchor_backend()
    with db_transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ANCHOR_LOCK_KEY])
        batch = MerkleBatch.objects.filter(batch_date=batch_date).first()
        created = batch is None
        if created:
            batch = MerkleBatch.objects.create(
                batch_date=batch_date,
                cutoff=cutoff,
                chunk_size=chunk_size,
                hash_version=merkle.HASH_VERSION,
                anchor_backend=backend.name,
            )
            root, chunk_roots, count = _hash_and_stamp(batch)
            batch.root_hash = root.hex()
            batch.chunk_roots = b"".join(chunk_roots)
            batch.transaction_count = count
            batch.save(update_fields=["root_hash", "chunk_roots", "transaction_count"])
            logger.info("anchored %s: %d transactions, root %s", batch_date, count, batch.root_hash)
    if not batch.anchor_ref:
        batch.anchor_ref = get_anchor_backend(batch.anchor_backend).anchor(batch.root_hash)
        MerkleBatch.objects.filter(pk=batch.pk, anchor_ref="").update(anchor_ref=batch.anchor_ref)
    return _result(batch, created=created, started=started)


# The hashed facts as read, kept beside each hash: the stamping UPDATE only
# touches rows whose facts are still these (category, notes or a soft delete
# in the meantime do not matter; they are not hashed).
_LEAF_COLUMNS = "id uuid, user_id text, amount text, currency text, date text, merchant_raw text, source text, "
_LEAF_COLUMNS += "created_at text, hash char(64), leaf_index integer"


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


def _hash_and_stamp(batch: MerkleBatch) -> tuple[bytes, list[bytes], int]:
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
                        tx_hash = _hash_row(row)
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
                "(a.id::text, a.user_id, a.amount, a.currency, a.date, a.merchant_raw, a.source, a.created_at)",
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


def _stream(raw, name: str, sql: str, params):
    with raw.cursor(name=name) as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(READ_BATCH):
            yield from rows


class _Report:
    """Collects problems, keeping the first MAX_LISTED and counting all."""

    MAX_LISTED = 1000

    def __init__(self, report: BatchVerification):
        self.report = report

    def add(self, problem: str, **details):
        self.report.problem_count += 1
        if len(self.report.problems) < self.MAX_LISTED:
            self.report.problems.append({"problem": problem, **details})


def batch_verify(*, batch: MerkleBatch, record: bool = True) -> BatchVerification:
    """Recomputes one batch from the rows as they are now and compares them
    with what was anchored (the MerkleChunk leaves): each row whose facts no
    longer hash to its leaf, each anchored row that is gone, each row that
    claims a leaf it does not hold, each chunk whose stored leaves no longer
    give their recorded root, then the root and its anchor."""
    report = BatchVerification(batch_date=batch.batch_date, transaction_count=batch.transaction_count)
    problems = _Report(report)
    size = batch.chunk_size
    builder = merkle.ChunkedRootBuilder(size)
    connection.ensure_connection()
    raw = connection.connection
    with db_transaction.atomic():
        rows = _stream(
            raw,
            "ledger_verify_rows",
            f"SELECT {FACT_COLUMNS}, t.blockchain_hash, t.leaf_index FROM ledger_transaction t "
            "WHERE t.merkle_batch_id = %s ORDER BY t.leaf_index NULLS LAST, t.id",
            [batch.id],
        )
        chunks = _stream(
            raw,
            "ledger_verify_chunks",
            "SELECT chunk_index, transaction_hashes, transaction_ids FROM ledger_merklechunk "
            "WHERE batch_id = %s ORDER BY chunk_index",
            [batch.id],
        )
        row = next(rows, None)
        for chunk_index, hashes, ids in chunks:
            for offset, (anchored, anchored_id) in enumerate(zip(_split(hashes, 32), _split(ids, 16), strict=True)):
                index = chunk_index * size + offset
                builder.add(merkle.leaf_hash(anchored.hex()))
                while row is not None and row[FACT_COUNT + 1] is not None and row[FACT_COUNT + 1] < index:
                    problems.add("extra_leaf", transaction_id=row[0], leaf_index=row[FACT_COUNT + 1])
                    row = next(rows, None)
                transaction_id = str(uuid.UUID(bytes=anchored_id))
                if row is None or row[FACT_COUNT + 1] != index:
                    problems.add("missing", transaction_id=transaction_id, leaf_index=index)
                    continue
                report.rows_checked += 1
                recomputed = _hash_row(row)
                if row[0] != transaction_id:
                    problems.add("extra_leaf", transaction_id=row[0], leaf_index=index)
                    problems.add("missing", transaction_id=transaction_id, leaf_index=index)
                elif recomputed != anchored.hex():
                    problems.add(
                        "row_changed",
                        transaction_id=transaction_id,
                        leaf_index=index,
                        anchored_hash=anchored.hex(),
                        recomputed_hash=recomputed,
                    )
                elif row[FACT_COUNT] != anchored.hex():
                    problems.add("hash_column_changed", transaction_id=transaction_id, leaf_index=index)
                row = next(rows, None)
        while row is not None:
            problems.add("extra_leaf", transaction_id=row[0], leaf_index=row[FACT_COUNT + 1])
            row = next(rows, None)
    if builder.count != batch.transaction_count:
        problems.add("leaf_count_mismatch", anchored_leaves=builder.count, expected=batch.transaction_count)
    root, chunk_roots = builder.finish()
    recorded_roots = _split(batch.chunk_roots, 32)
    for index in range(max(len(chunk_roots), len(recorded_roots))):
        if index >= len(chunk_roots) or index >= len(recorded_roots) or chunk_roots[index] != recorded_roots[index]:
            first = index * size
            problems.add("chunk_changed", leaf_range=[first, min(first + size, batch.transaction_count) - 1])
    report.root_matches = root.hex() == batch.root_hash
    try:
        report.anchor_ok = get_anchor_backend(batch.anchor_backend).verify(batch.root_hash, batch.anchor_ref)
    except UnknownAnchorBackend as exc:
        problems.add("unknown_anchor_backend", detail=str(exc))
    if record:
        MerkleBatch.objects.filter(pk=batch.pk).update(verified_at=timezone.now(), verification_ok=report.ok)
    return report


def ledger_verify(*, batch_date: datetime.date | None = None, notify: bool = False) -> list[BatchVerification]:
    """Verifies every batch (or the one for ``batch_date``), oldest first."""
    batches = MerkleBatch.objects.order_by("batch_date")
    if batch_date:
        batches = batches.filter(batch_date=batch_date)
        if not batches.exists():
            raise DomainError(f"There is no batch for {batch_date}.", code="no_batch")
    reports = [batch_verify(batch=batch) for batch in batches.iterator()]
    if notify:
        for report in reports:
            if not report.ok:
                integrity_alert_send(report=report)
    return reports


def ledger_anchor_nightly(*, batch_date: datetime.date | None = None, now=None) -> dict:
    """The 02:00 job: anchor the day that ended, then re-verify the batch
    before it and alert staff if it no longer matches."""
    result = ledger_anchor(batch_date=batch_date, now=now)
    previous = MerkleBatch.objects.filter(batch_date__lt=result.batch_date).order_by("-batch_date").first()
    summary = {"anchored": result.as_dict(), "previous": None}
    if previous:
        report = batch_verify(batch=previous)
        if not report.ok:
            integrity_alert_send(report=report)
        summary["previous"] = {"batch_date": previous.batch_date.isoformat(), "ok": report.ok}
    return summary


def integrity_alert_send(*, report: BatchVerification) -> None:
    """Tells every active staff user, over the WebSocket and by e-mail."""
    logger.error("ledger batch %s failed verification: %s", report.batch_date, report.problems[:20])
    staff = list(get_user_model().objects.filter(is_staff=True, is_active=True).values_list("id", "email"))
    summary = {
        "batch_date": report.batch_date.isoformat(),
        "root_matches": report.root_matches,
        "anchor_ok": report.anchor_ok,
        "problem_count": report.problem_count,
        "problems": report.problems[:20],
    }
    for user_id, _ in staff:
        notify_integrity_alert(user_id=user_id, **summary)
    recipients = [email for _, email in staff if email]
    if recipients:
        lines = [f"- {problem}" for problem in report.problems[:50]]
        body = (
            f"The ledger batch of {report.batch_date} no longer matches its anchored Merkle root.\n"
            f"Root matches: {report.root_matches}; anchor verifies: {report.anchor_ok}.\n"
            f"{report.problem_count} problem(s):\n" + "\n".join(lines) + "\n\n"
            "Run `python manage.py verify_ledger --date "
            f"{report.batch_date}` for the full report."
        )
        db_transaction.on_commit(
            lambda: send_mail(
                f"[Tally] Ledger integrity check failed for {report.batch_date}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                recipients,
                fail_silently=True,
            )
        )


def _transaction_facts(transaction_id) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {FACT_COLUMNS} FROM ledger_transaction t WHERE t.id = %s", [transaction_id])
        return dict(zip(merkle.FACT_FIELDS, cursor.fetchone(), strict=True))


def transaction_proof(*, user, transaction_id) -> dict:
    """The Merkle proof for one of the user's anchored transactions: what
    ``python -m ledger.verify_proof`` checks offline. Built from the anchored
    leaves, so edits or deletes of other rows never touch it; the facts are
    the row as it is now, and ``row_matches`` says whether they still hash
    to the anchored leaf."""
    tx = transaction_get_any(user=user, transaction_id=transaction_id)
    if tx.merkle_batch_id is None:
        raise Conflict(
            "This transaction is not anchored yet; the nightly anchoring (02:00 UTC) will include it.",
            code="not_anchored",
        )
    batch = MerkleBatch.objects.get(pk=tx.merkle_batch_id)
    size = batch.chunk_size
    chunk = MerkleChunk.objects.filter(batch=batch, chunk_index=(tx.leaf_index or 0) // size).first()
    hashes = _split(chunk.transaction_hashes, 32) if chunk else []
    ids = _split(chunk.transaction_ids, 16) if chunk else []
    offset = (tx.leaf_index or 0) % size
    if tx.leaf_index is None or offset >= len(hashes) or ids[offset] != tx.id.bytes:
        logger.error("no anchored leaf for transaction %s in batch %s", tx.id, batch.batch_date)
        raise Conflict(
            "The anchored record of this transaction is damaged; staff have to run verify_ledger.",
            code="proof_unavailable",
        )
    anchored_hash = hashes[offset].hex()
    path = merkle.chunked_path(
        [merkle.leaf_hash(h.hex()) for h in hashes], _split(batch.chunk_roots, 32), tx.leaf_index, size
    )
    facts = _transaction_facts(tx.id)
    return {
        "proof_version": 1,
        "hash_version": batch.hash_version,
        "transaction_id": str(tx.id),
        "transaction": facts,
        "transaction_hash": anchored_hash,
        "leaf_hash": merkle.leaf_hash(anchored_hash).hex(),
        "leaf_index": tx.leaf_index,
        "leaf_count": batch.transaction_count,
        "path": [{"position": side, "hash": sibling.hex()} for side, sibling in path],
        "root_hash": batch.root_hash,
        "batch_date": batch.batch_date.isoformat(),
        "anchor": {"backend": batch.anchor_backend, "ref": batch.anchor_ref},
        "row_matches": merkle.transaction_hash(facts) == anchored_hash,
    }


ANCHORED_FIELDS = ("amount", "date", "merchant_raw", "currency", "source")


def reject_anchored_changes(*, transaction: Transaction, changes: dict) -> None:
    """Anchored facts are final: editing one would break the batch's proof.
    Category, notes and deletion are not hashed and stay editable."""
    if transaction.merkle_batch_id is None:
        return
    changed = []
    for name in ANCHORED_FIELDS:
        if name not in changes:
            continue
        value = changes[name].strip() if isinstance(changes[name], str) else changes[name]
        if value != getattr(transaction, name):
            changed.append(name)
    if changed:
        raise Conflict(
            f"This transaction is anchored in the ledger ({', '.join(changed)} cannot change). "
            "Delete it and enter a corrected transaction instead.",
            code="anchored",
            fields=changed,
        )
