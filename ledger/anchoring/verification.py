"""Verifying anchored batches against the rows as they are now, and telling
staff when one no longer matches."""

import datetime
import logging
import uuid
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from config.errors import DomainError
from ledger.anchoring import merkle
from ledger.anchoring.backends import UnknownAnchorBackend, get_anchor_backend
from ledger.anchoring.hashing import FACT_COLUMNS, FACT_COUNT, hash_row, split_blob, stream_rows
from ledger.errors import LedgerErrorCode
from ledger.models import MerkleBatch
from realtime.services import notify_integrity_alert

logger = logging.getLogger("ledger.anchoring.services")


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
        rows = stream_rows(
            raw,
            "ledger_verify_rows",
            f"SELECT {FACT_COLUMNS}, t.blockchain_hash, t.leaf_index FROM ledger_transaction t "
            "WHERE t.merkle_batch_id = %s ORDER BY t.leaf_index NULLS LAST, t.id",
            [batch.id],
        )
        chunks = stream_rows(
            raw,
            "ledger_verify_chunks",
            "SELECT chunk_index, transaction_hashes, transaction_ids FROM ledger_merklechunk "
            "WHERE batch_id = %s ORDER BY chunk_index",
            [batch.id],
        )
        row = next(rows, None)
        for chunk_index, hashes, ids in chunks:
            for offset, (anchored, anchored_id) in enumerate(
                zip(split_blob(hashes, 32), split_blob(ids, 16), strict=True)
            ):
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
                recomputed = hash_row(row, batch.hash_version)
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
    recorded_roots = split_blob(batch.chunk_roots, 32)
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
            raise DomainError(f"There is no batch for {batch_date}.", code=LedgerErrorCode.NO_BATCH)
    reports = [batch_verify(batch=batch) for batch in batches.iterator()]
    if notify:
        for report in reports:
            if not report.ok:
                integrity_alert_send(report=report)
    return reports


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
