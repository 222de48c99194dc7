"""The import sweep (ledger.sweep_imports): a commit left running with no
live worker is resumed and ends with every row once; one a worker still
holds is left alone; one stuck for a day ends failed and can be reverted;
a preview older than its day expires with its rows."""

import datetime
from unittest import mock

import psycopg
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ledger.imports import commits, previews, sweeps
from ledger.imports.tasks import commit_import, sweep_imports
from ledger.models import Import, ImportRow, Transaction
from tests.e2e.servers import test_database_url as database_url
from tests.ledger.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True)
CSV = b"Date,Description,Amount\n2024-03-01,Corner Bakery,-12.50\n2024-03-02,Fuel Stop,-40.00\n"


@pytest.fixture
def account(user):
    return AccountFactory(user=user, currency="USD")


def _running(user, account, *, stopped_ago: datetime.timedelta) -> Import:
    """A commit queued (status running) whose task was lost, last touched `stopped_ago`."""
    source = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile("s.csv", CSV))
    with mock.patch.object(commit_import, "delay") as lost:
        commits.import_commit(user=user, import_id=source.id, run_async=True)
    assert lost.call_count == 1
    Import.objects.filter(pk=source.pk).update(updated_at=timezone.now() - stopped_ago)
    return Import.objects.get(pk=source.pk)


def test_a_commit_with_no_live_worker_is_resumed_and_writes_each_row_once(user, account, celery_eager):
    source = _running(user, account, stopped_ago=datetime.timedelta(minutes=30))

    assert sweep_imports.delay().get() == {"resumed": 1, "failed": 0, "expired": 0}

    source.refresh_from_db()
    assert (source.status, source.imported_count) == (Import.Status.COMMITTED, 2)
    assert Transaction.objects.filter(source_import=source).count() == 2
    assert sweeps.imports_sweep() == {"resumed": 0, "failed": 0, "expired": 0}  # nothing left to do
    assert Transaction.objects.filter(source_import=source).count() == 2


def test_a_commit_a_live_worker_holds_is_left_to_it(user, account, celery_eager):
    source = _running(user, account, stopped_ago=datetime.timedelta(minutes=30))

    with psycopg.connect(database_url(), autocommit=True) as worker:
        worker.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [f"import:{source.id}"])
        assert sweeps.imports_sweep() == {"resumed": 0, "failed": 0, "expired": 0}

    source.refresh_from_db()
    assert source.status == Import.Status.RUNNING
    assert not Transaction.objects.filter(source_import=source).exists()


def test_a_commit_stuck_for_a_day_fails_with_a_clear_status_and_can_be_reverted(user, account, celery_eager):
    source = _running(user, account, stopped_ago=datetime.timedelta(days=2))

    assert sweeps.imports_sweep() == {"resumed": 0, "failed": 1, "expired": 0}

    source.refresh_from_db()
    assert source.status == Import.Status.FAILED
    assert "did not resume within a day" in source.error
    assert commits.import_revert(user=user, import_id=source.id).status == Import.Status.REVERTED


def test_a_preview_older_than_a_day_expires_with_its_rows(user, account):
    old = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile("s.csv", CSV))
    fresh = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile("s.csv", CSV))
    Import.objects.filter(pk=old.pk).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))

    assert sweeps.imports_sweep() == {"resumed": 0, "failed": 0, "expired": 1}

    old.refresh_from_db()
    assert (old.status, bool(old.file)) == (Import.Status.EXPIRED, False)
    assert not ImportRow.objects.filter(source_import=old).exists()
    assert Import.objects.get(pk=fresh.pk).status == Import.Status.PREVIEW
    assert ImportRow.objects.filter(source_import=fresh).count() == 2
