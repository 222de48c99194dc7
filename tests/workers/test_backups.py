"""make backup / make restore, and rollback: a backup of the test database is
restored into a scratch database (restore migrates and verifies the ledger),
which is then migrated down to zero and back up to the head."""

import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ledger.anchoring import services as anchoring
from ledger.models import Transaction
from tests.ledger.factories import TransactionFactory

ROOT = Path(__file__).resolve().parents[2]


def _url(name: str) -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}"


def _admin(sql: str) -> None:
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "localhost", port=s["PORT"] or 5432, user=s["USER"], password=s.get("PASSWORD") or None,
        dbname="postgres", autocommit=True,
    ) as conn:  # fmt: skip
        conn.execute(sql)


@pytest.fixture
def scratch_db():
    name = f"{connection.settings_dict['NAME']}_scratch_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield name
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _manage(database: str, *args: str, code: str | None = None) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATABASE_URL": _url(database),
        "DATABASE_POOL": "false",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    command = [sys.executable, "-c", code] if code else [sys.executable, "manage.py", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


ZERO_AND_BACK = """
import django
django.setup()
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader
apps = sorted({app for app, _ in MigrationLoader(connection).applied_migrations})
for app in apps:
    call_command("migrate", app, "zero", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM django_migrations")
    print("after zero:", cursor.fetchone()[0])
    cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'django_migrations'")
    print("tables left:", cursor.fetchone()[0])
call_command("migrate", verbosity=0)
"""


def _tables(database: str) -> set[str]:
    s = connection.settings_dict
    with psycopg.connect(
        host=s["HOST"] or "localhost", port=s["PORT"] or 5432, user=s["USER"], password=s.get("PASSWORD") or None,
        dbname=database,
    ) as conn:  # fmt: skip
        return {row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


@pytest.mark.django_db(transaction=True)
def test_backup_restore_verify_then_roll_back_to_zero_and_up_again(tmp_path, scratch_db, user):
    rows = [TransactionFactory(user=user, amount=Decimal(f"{n}.25")) for n in range(1, 6)]
    anchoring.ledger_anchor(batch_date=rows[0].created_at.date())
    out = __import__("io").StringIO()
    call_command("backup", "--dir", str(tmp_path), stdout=out)

    [dump] = tmp_path.glob("*.dump")
    manifest = json.loads(dump.with_suffix(".json").read_text())
    assert manifest["schema"]["ledger"] == max(p.stem for p in (ROOT / "ledger" / "migrations").glob("0*.py"))

    restored = _manage(scratch_db, "restore", str(dump))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    assert "ok  rows 5/5" in restored.stdout and "restored" in restored.stdout
    head_tables = _tables(scratch_db)
    assert head_tables == _tables(connection.settings_dict["NAME"])

    # Rollback: every migration runs backwards to zero, then forwards to the head again.
    cycled = _manage(scratch_db, code=ZERO_AND_BACK)
    assert cycled.returncode == 0, cycled.stdout + cycled.stderr
    assert "after zero: 0" in cycled.stdout and "tables left: 0" in cycled.stdout
    assert _tables(scratch_db) == head_tables
    assert Transaction.objects.count() == 5  # the source database is untouched


@pytest.mark.django_db
def test_restore_refuses_a_database_that_is_not_empty(tmp_path):
    dump = tmp_path / "x.dump"
    dump.write_bytes(b"PGDMP")

    with pytest.raises(CommandError, match="is not empty") as refused:
        call_command("restore", str(dump))
    assert refused.value.returncode == 2
    with pytest.raises(CommandError, match="No backup at") as missing:
        call_command("restore", str(tmp_path / "missing.dump"))
    assert missing.value.returncode == 2


def test_restore_refuses_a_backup_newer_than_the_code(tmp_path, scratch_db):
    dump = tmp_path / "newer.dump"
    dump.write_bytes(b"PGDMP")
    dump.with_suffix(".json").write_text(
        json.dumps({"created_at": "2030-01-01", "database": "x", "schema": {"ledger": "9999_from_the_future"}})
    )

    refused = _manage(scratch_db, "restore", str(dump))

    assert refused.returncode == 2
    assert "newer than this code (ledger.9999_from_the_future)" in refused.stderr
    assert _tables(scratch_db) == set()
