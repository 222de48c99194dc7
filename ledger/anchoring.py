"""The tamper-evident ledger: nightly Merkle batches, proofs, verification.

The hashing and tree rules are in ledger/merkle.py (standard library only, so
the offline verifier shares them). This module reads and writes the
database: rows stream through a server-side cursor and their hashes go back
through COPY and one UPDATE, so memory stays flat however large the batch.
"""

import datetime
import logging
import time
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from config.exceptions import Conflict, DomainError
from ledger import merkle
from ledger.anchor_backends import get_anchor_backend
from ledger.models import MerkleBatch, Transaction
from ledger.selectors import transaction_get_any
from realtime.services import notify_integrity_alert

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024
READ_BATCH = 10_000
# pg_advisory_xact_lock key: one anchoring run at a time.
ANCHOR_LOCK_KEY = 0x7A11_A7C4
ZERO_LEAF = bytes(32)

# The hashed facts as the strings ledger/merkle.py defines, formatted by
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
    problems: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.root_matches and self.anchor_ok and not self.problems

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


def _fact_values(row) -> tuple[str, ...]:
    return row[:FACT_COUNT]


def _hash_row(row) -> str:
    return merkle.transaction_hash(dict(zip(merkle.FACT_FIELDS, _fact_values(row), strict=True)))


def _split_roots(blob: bytes) -> list[bytes]:
    blob = bytes(blob)
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def ledger_anchor(
    *, batch_date: datetime.date | None = None, now: datetime.datetime | None = None, chunk_size: int = CHUNK_SIZE
) -> AnchorResult:
    """Anchors every live, unanchored transaction created before the batch's
    cut-off into the MerkleBatch for ``batch_date`` (default: yesterday, cut
    off now), in one database transaction. A second run for the same date
    changes nothing."""
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
        existing = MerkleBatch.objects.filter(batch_date=batch_date).first()
        if existing:
            return AnchorResult(
                batch_date=batch_date,
                created=False,
                transaction_count=existing.transaction_count,
                root_hash=existing.root_hash,
                anchor_backend=existing.anchor_backend,
                anchor_ref=existing.anchor_ref,
                seconds=round(time.monotonic() - started, 3),
            )
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
        batch.anchor_ref = backend.anchor(batch.root_hash)
        batch.save(update_fields=["root_hash", "chunk_roots", "transaction_count", "anchor_ref"])
    logger.info("anchored %s: %d transactions, root %s", batch_date, count, batch.root_hash)
    return AnchorResult(
        batch_date=batch_date,
        created=True,
        transaction_count=count,
        root_hash=batch.root_hash,
        anchor_backend=batch.anchor_backend,
        anchor_ref=batch.anchor_ref,
        seconds=round(time.monotonic() - started, 3),
    )


def _hash_and_stamp(batch: MerkleBatch) -> tuple[bytes, list[bytes], int]:
    """Streams the batch's rows in leaf order, hashes them into the tree and
    stamps hash, batch and leaf index on each row (COPY into a temporary
    table, then one UPDATE). Only rows unchanged since they were read are
    stamped; any other outcome raises AnchoringRaced."""
    builder = merkle.ChunkedRootBuilder(batch.chunk_size)
    raw = connection.connection  # inside the caller's atomic block, so connected
    with raw.cursor() as writer:
        # ON COMMIT DROP ends it with the transaction; the DROP covers a caller's outer transaction.
        writer.execute("DROP TABLE IF EXISTS ledger_anchor_leaves")
        writer.execute(
            "CREATE TEMP TABLE ledger_anchor_leaves "
            "(id uuid, updated_at timestamptz, hash char(64), leaf_index integer) ON COMMIT DROP"
        )
        with raw.cursor(name="ledger_anchor_rows") as reader:
            reader.execute(
                f"SELECT {FACT_COLUMNS}, t.updated_at FROM ledger_transaction t "
                "WHERE t.merkle_batch_id IS NULL AND NOT t.is_deleted AND t.created_at < %s "
                "ORDER BY t.created_at, t.id",
                [batch.cutoff],
            )
            while rows := reader.fetchmany(READ_BATCH):
                with writer.copy("COPY ledger_anchor_leaves (id, updated_at, hash, leaf_index) FROM STDIN") as copy:
                    for row in rows:
                        tx_hash = _hash_row(row)
                        copy.write_row((row[0], row[FACT_COUNT], tx_hash, builder.count))
                        builder.add(merkle.leaf_hash(tx_hash))
        root, chunk_roots = builder.finish()
        if builder.count:
            writer.execute("ANALYZE ledger_anchor_leaves")
            writer.execute(
                "UPDATE ledger_transaction t SET blockchain_hash = a.hash, merkle_batch_id = %s, "
                "leaf_index = a.leaf_index FROM ledger_anchor_leaves a "
                "WHERE t.id = a.id AND t.updated_at = a.updated_at AND t.merkle_batch_id IS NULL",
                [batch.id],
            )
            if writer.rowcount != builder.count:
                raise AnchoringRaced(f"{builder.count - writer.rowcount} row(s) changed while the batch was hashed")
    return root, chunk_roots, builder.count


def batch_verify(*, batch: MerkleBatch, record: bool = True) -> BatchVerification:
    """Recomputes one batch from the rows as they are now. Reports each row
    that no longer hashes to its stored hash, each missing leaf, each chunk
    whose root moved (hash column rewritten too), the root and the anchor."""
    report = BatchVerification(batch_date=batch.batch_date, transaction_count=batch.transaction_count)
    builder = merkle.ChunkedRootBuilder(batch.chunk_size)
    flagged_chunks = set()
    connection.ensure_connection()
    raw = connection.connection
    with db_transaction.atomic(), raw.cursor(name="ledger_verify_rows") as reader:
        reader.execute(
            f"SELECT {FACT_COLUMNS}, t.blockchain_hash, t.leaf_index FROM ledger_transaction t "
            "WHERE t.merkle_batch_id = %s ORDER BY t.leaf_index",
            [batch.id],
        )
        while rows := reader.fetchmany(READ_BATCH):
            for row in rows:
                stored_hash, leaf_index = row[FACT_COUNT], row[FACT_COUNT + 1]
                while builder.count < min(leaf_index, batch.transaction_count):
                    report.problems.append({"problem": "missing", "leaf_index": builder.count})
                    flagged_chunks.add(builder.count // batch.chunk_size)
                    builder.add(ZERO_LEAF)
                report.rows_checked += 1
                recomputed = _hash_row(row)
                if recomputed != stored_hash or leaf_index >= batch.transaction_count:
                    report.problems.append(
                        {
                            "problem": "row_changed" if leaf_index < batch.transaction_count else "extra_leaf",
                            "transaction_id": row[0],
                            "leaf_index": leaf_index,
                            "stored_hash": stored_hash,
                            "recomputed_hash": recomputed,
                        }
                    )
                    flagged_chunks.add(leaf_index // batch.chunk_size)
                if leaf_index < batch.transaction_count:
                    builder.add(merkle.leaf_hash(recomputed))
    while builder.count < batch.transaction_count:
        report.problems.append({"problem": "missing", "leaf_index": builder.count})
        flagged_chunks.add(builder.count // batch.chunk_size)
        builder.add(ZERO_LEAF)
    root, chunk_roots = builder.finish()
    stored_roots = _split_roots(batch.chunk_roots)
    for index, chunk_root in enumerate(chunk_roots):
        stored = stored_roots[index] if index < len(stored_roots) else None
        if chunk_root != stored and index not in flagged_chunks:
            first = index * batch.chunk_size
            last = min(first + batch.chunk_size, batch.transaction_count) - 1
            report.problems.append({"problem": "chunk_changed", "leaf_range": [first, last]})
    report.root_matches = root.hex() == batch.root_hash and len(stored_roots) == len(chunk_roots)
    report.anchor_ok = get_anchor_backend(batch.anchor_backend).verify(batch.root_hash, batch.anchor_ref)
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
        "problem_count": len(report.problems),
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
            f"{len(report.problems)} problem(s):\n" + "\n".join(lines) + "\n\n"
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
    ``python -m ledger.verify_proof`` checks offline."""
    tx = transaction_get_any(user=user, transaction_id=transaction_id)
    if tx.merkle_batch_id is None:
        raise Conflict(
            "This transaction is not anchored yet; the nightly anchoring (02:00 UTC) will include it.",
            code="not_anchored",
        )
    batch = MerkleBatch.objects.get(pk=tx.merkle_batch_id)
    size = batch.chunk_size
    first = tx.leaf_index - tx.leaf_index % size
    stored = dict(
        Transaction.objects.filter(
            merkle_batch_id=batch.id, leaf_index__gte=first, leaf_index__lt=min(first + size, batch.transaction_count)
        ).values_list("leaf_index", "blockchain_hash")
    )
    chunk_leaves = [
        merkle.leaf_hash(stored[index]) if index in stored else ZERO_LEAF
        for index in range(first, min(first + size, batch.transaction_count))
    ]
    path = merkle.chunked_path(chunk_leaves, _split_roots(batch.chunk_roots), tx.leaf_index, size)
    facts = _transaction_facts(tx.id)
    return {
        "proof_version": 1,
        "hash_version": batch.hash_version,
        "transaction_id": str(tx.id),
        "transaction": facts,
        "transaction_hash": tx.blockchain_hash,
        "leaf_hash": merkle.leaf_hash(tx.blockchain_hash).hex(),
        "leaf_index": tx.leaf_index,
        "leaf_count": batch.transaction_count,
        "path": [{"position": side, "hash": sibling.hex()} for side, sibling in path],
        "root_hash": batch.root_hash,
        "batch_date": batch.batch_date.isoformat(),
        "anchor": {"backend": batch.anchor_backend, "ref": batch.anchor_ref},
        "row_matches": merkle.transaction_hash(facts) == tx.blockchain_hash,
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
