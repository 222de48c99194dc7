"""A large commit survives its worker killed with SIGKILL mid-way: real
celery worker processes on the test database and a test Redis database as
broker; the first is killed while it holds uncommitted rows, the task is
delivered again to a second worker, which takes the job over (the dead
worker's lease went with its database session) and ends it committed with
every row exactly once."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count

from ledger.models import Import, ImportRow, Transaction
from tests.e2e.servers import test_database_url as database_url
from tests.ledger.factories import AccountFactory

ROOT = Path(__file__).resolve().parents[3]
ROWS = 3000
BATCH = 25


def _statement(rows: int) -> bytes:
    lines = ["Date,Description,Amount"]
    for n in range(rows):
        lines.append(f"2024-{1 + n % 12:02d}-{1 + n % 28:02d},SHOP {n} TOWN,-{1 + n % 500}.{n % 100:02d}")
    return ("\n".join(lines) + "\n").encode()


class Worker:
    """`celery worker` on the high_priority queue, as `make run` starts it,
    pointed at the test database and the test Redis broker."""

    def __init__(self, name: str):
        self.log = tempfile.NamedTemporaryFile("w+", suffix=".worker.log", delete=False)
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "DATABASE_POOL_MIN": "0",
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "CHANNEL_LAYER_PREFIX": settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"],
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LEDGER_IMPORT_COMMIT_BATCH": str(BATCH),
            # A task whose worker vanished is delivered again after a second, not an hour.
            "CELERY_VISIBILITY_TIMEOUT": "1",
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-P", "solo", "-Q", "high_priority",
             "-n", f"{name}-{os.getpid()}@%h", "--without-mingle", "--without-gossip", "--without-heartbeat",
             "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text()[-4000:]

    def kill(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def close(self):
        self.kill()
        Path(self.log.name).unlink(missing_ok=True)


def _wait_for(condition, what: str, *, worker: Worker, timeout: float = 180.0):
    """Poll a condition in the database until it holds (a deadline, not a sleep standing in for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited while waiting for {what}:\n{worker.output()}")
        time.sleep(0.02)
    raise AssertionError(f"no {what} within {timeout} s; worker log:\n{worker.output()}")


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_commit_is_taken_over_and_every_row_lands_once(auth_client, user, settings):
    settings.LEDGER_IMPORT_ASYNC_ROWS = 100
    account = AccountFactory(user=user, name="Checking", kind="checking", currency="USD")
    body = {"file": SimpleUploadedFile("big.csv", _statement(ROWS)), "account": str(account.id)}
    preview = auth_client.post("/api/v1/imports", body, format="multipart")
    assert preview.status_code == 201, preview.json()
    import_id = preview.json()["id"]
    assert preview.json()["counts"]["new"] == ROWS

    queued = auth_client.post(f"/api/v1/imports/{import_id}/commit", {}, format="json")
    assert queued.status_code == 202, queued.json()

    first = Worker("first")
    second = None
    try:
        _wait_for(lambda: Import.objects.get(id=import_id).processed >= BATCH, "first committed batch", worker=first)
        with psycopg.connect(database_url()) as holder:
            # Hold the import's row: the worker's next batch (or its finish)
            # waits on it with rows written but not committed, and is killed there.
            holder.execute("SELECT id FROM ledger_import WHERE id = %s FOR UPDATE", [import_id])
            waiting = (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            _wait_for(lambda: holder.execute(waiting).fetchone()[0] >= 1, "worker blocked mid-batch", worker=first)
            first.kill()
            status, processed = holder.execute(
                "SELECT status, processed FROM ledger_import WHERE id = %s", [import_id]
            ).fetchone()
            written = holder.execute(
                "SELECT count(*) FROM ledger_transaction WHERE source_import_id = %s", [import_id]
            ).fetchone()[0]
            holder.rollback()
        assert status == "running"
        assert 0 < processed < ROWS  # killed mid-way, with whole batches committed
        assert written == processed

        second = Worker("second")
        done = _wait_for(
            lambda: Import.objects.filter(id=import_id, status__in=["committed", "failed"]).first(),
            "the import finished by the second worker",
            worker=second,
        )
    finally:
        first.close()
        if second is not None:
            second.close()

    assert (done.status, done.imported_count, done.processed, done.error) == ("committed", ROWS, ROWS, "")
    rows = Transaction.objects.filter(source_import_id=import_id)
    assert rows.count() == ROWS
    assert not rows.values("merchant_raw").annotate(n=Count("id")).filter(n__gt=1).exists()
    linked = ImportRow.objects.filter(source_import_id=import_id, fate="new")
    assert linked.filter(transaction__isnull=True).count() == 0
    assert linked.values("transaction_id").distinct().count() == ROWS
