"""The periodic sweep (ledger.sweep_imports, every 5 minutes): imports that
nobody is finishing. A commit running with no live lease (its worker died
and the broker's redelivery never came) is queued again and resumes where
its batches stopped; one that has made no progress for a day ends failed
with a status that says so (its rows written so far can be reverted). A
preview older than its day expires: its rows are deleted, the file with them."""

import datetime

from django.db import transaction as db_transaction
from django.utils import timezone

from ledger.imports.leases import import_lease_free
from ledger.models import Import, ImportRow

Status = Import.Status
# A running import whose last batch is older than this is stranded if no worker holds its lease.
STRANDED_AFTER = datetime.timedelta(minutes=10)
# Resumed for this long without progress: it will not finish on its own.
GIVE_UP_AFTER = datetime.timedelta(days=1)


def imports_sweep(*, now: datetime.datetime | None = None) -> dict:
    """-> {"resumed": n, "failed": n, "expired": n}"""
    from ledger.imports.tasks import commit_import

    now = now or timezone.now()
    resumed = failed = 0
    stale = Import.objects.filter(status=Status.RUNNING, updated_at__lt=now - STRANDED_AFTER)
    for import_id, updated_at, processed, new_count in stale.values_list("id", "updated_at", "processed", "new_count"):
        if not import_lease_free(f"import:{import_id}"):
            continue  # a live worker is still on it (a slow batch)
        if updated_at < now - GIVE_UP_AFTER:
            failed += Import.objects.filter(pk=import_id, status=Status.RUNNING).update(
                status=Status.FAILED,
                updated_at=now,
                error=f"The commit stopped (its worker was lost) and did not resume within a day; {processed} of "
                f"about {new_count} rows were written. Revert the import to remove them, then upload the file again.",
            )
            continue
        db_transaction.on_commit(lambda import_id=import_id: commit_import.delay(str(import_id)))
        resumed += 1
    expired_ids = list(Import.objects.filter(status=Status.PREVIEW, expires_at__lte=now).values_list("id", flat=True))
    for import_id in expired_ids:
        with db_transaction.atomic():
            source = Import.objects.select_for_update().filter(pk=import_id, status=Status.PREVIEW).first()
            if source is None:
                continue
            ImportRow.objects.filter(source_import=source).delete()
            if source.file:
                source.file.delete(save=False)
            source.status = Status.EXPIRED
            source.save(update_fields=["status", "file", "updated_at"])
    return {"resumed": resumed, "failed": failed, "expired": len(expired_ids)}
