"""The tamper-evident ledger: nightly Merkle batches. Hashing and stamping
rows is in hashing.py, verification and integrity alerts in verification.py,
single-transaction proofs and the anchored-facts rule in proofs.py; this
module anchors batches and re-exports the others' public names."""

import datetime
import logging
import time
from dataclasses import asdict, dataclass

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from config.errors import DomainError
from ledger.anchoring import merkle
from ledger.anchoring.backends import get_anchor_backend
from ledger.anchoring.hashing import CHUNK_SIZE, AnchoringRaced, hash_and_stamp  # noqa: F401  (re-exported)
from ledger.anchoring.proofs import ANCHORED_FIELDS, reject_anchored_changes, transaction_proof  # noqa: F401
from ledger.anchoring.verification import (  # noqa: F401  (re-exported)
    BatchVerification,
    batch_verify,
    integrity_alert_send,
    ledger_verify,
)
from ledger.errors import LedgerErrorCode
from ledger.models import MerkleBatch, Transaction

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock key: one anchoring run at a time.
ANCHOR_LOCK_KEY = 0x7A11_A7C4


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


def _day_start(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=datetime.UTC)


def batch_cutoff(*, batch_date: datetime.date, now: datetime.datetime) -> datetime.datetime:
    """A batch for a given date holds rows created before that day ended
    (UTC), or before now when it has not ended yet."""
    return min(_day_start(batch_date + datetime.timedelta(days=1)), now)


def anchor_preview(*, now: datetime.datetime | None = None) -> dict:
    """What the default run would do now: the batch date, its cut-off, how
    many rows it would freeze, and whether that date already has a batch."""
    now = now or timezone.now()
    batch_date = default_batch_date(now)
    cutoff = batch_cutoff(batch_date=batch_date, now=now)
    rows = Transaction.objects.filter(merkle_batch__isnull=True, is_deleted=False, created_at__lt=cutoff).count()
    exists = MerkleBatch.objects.filter(batch_date=batch_date).exists()
    return {"batch_date": batch_date, "cutoff": cutoff, "rows": rows, "exists": exists}


def default_batch_date(now: datetime.datetime) -> datetime.date:
    """The nightly run closes the day that just ended."""
    return now.astimezone(datetime.UTC).date() - datetime.timedelta(days=1)


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
    cut-off (the end of that day UTC, or now for today) into the MerkleBatch
    for ``batch_date`` (default: yesterday): tree, leaves and row stamps in one database transaction. The
    root goes to the anchor backend after commit, so a slow or failing
    network backend holds no locks; a batch left without a reference gets
    one on the next run. Otherwise a second run for the date changes nothing."""
    started = time.monotonic()
    now = now or timezone.now()
    # The default (the nightly run, or admin's "Run selected tasks") closes
    # yesterday's batch at midnight UTC: a row created today is never frozen
    # into a batch dated yesterday; it waits for tonight's run.
    batch_date = batch_date or default_batch_date(now)
    cutoff = batch_cutoff(batch_date=batch_date, now=now)
    if _day_start(batch_date) > now:
        raise DomainError(
            f"{batch_date} has not started yet; it cannot be anchored.", code=LedgerErrorCode.FUTURE_BATCH
        )
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
            root, chunk_roots, count = hash_and_stamp(batch)
            batch.root_hash = root.hex()
            batch.chunk_roots = b"".join(chunk_roots)
            batch.transaction_count = count
            batch.save(update_fields=["root_hash", "chunk_roots", "transaction_count"])
            logger.info("anchored %s: %d transactions, root %s", batch_date, count, batch.root_hash)
    if not batch.anchor_ref:
        batch.anchor_ref = get_anchor_backend(batch.anchor_backend).anchor(batch.root_hash)
        MerkleBatch.objects.filter(pk=batch.pk, anchor_ref="").update(anchor_ref=batch.anchor_ref)
    return _result(batch, created=created, started=started)


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
