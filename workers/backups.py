"""Backups and restores of the database (`make backup`, `make restore`).

A backup is pg_dump's custom format plus a manifest next to it that records
the schema version: the latest applied migration of every app. A restore goes
into an empty database only: pg_restore, then `migrate` (a dump from an older
release is brought up to this code's schema), then verify_ledger, so a restore
that altered anchored rows is caught at once. A dump from a newer release than
the code (a rollback gone the wrong way) is refused before anything is written."""

import datetime
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from config.errors import DomainError


@dataclass(frozen=True)
class Backup:
    dump: Path
    manifest: Path
    schema: dict[str, str]


def _pg_env() -> dict:
    """libpq's variables for the default database (pg_dump and pg_restore read them)."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGHOST": db.get("HOST") or "localhost", "PGPORT": str(db.get("PORT") or 5432)}
    env["PGUSER"] = db.get("USER") or "postgres"
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    env["PGDATABASE"] = db["NAME"]
    return env


def schema_version(using_connection=None) -> dict[str, str]:
    """{app: latest applied migration} of the database."""
    with (using_connection or connection).cursor() as cursor:
        cursor.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
        return dict(cursor.fetchall())


def _code_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def _run(command: list[str]) -> None:
    finished = subprocess.run(command, env=_pg_env(), capture_output=True, text=True)
    if finished.returncode != 0:
        raise DomainError(f"{command[0]} failed: {finished.stderr.strip() or finished.stdout.strip()}", code="failed")


def backup_create(*, directory: Path, now: datetime.datetime | None = None) -> Backup:
    now = now or datetime.datetime.now(datetime.UTC)
    directory.mkdir(parents=True, exist_ok=True)
    schema = schema_version()
    stem = f"tally-{settings.DATABASES['default']['NAME']}-{now:%Y%m%dT%H%M%SZ}"
    dump, manifest = directory / f"{stem}.dump", directory / f"{stem}.json"
    _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"])
    manifest.write_text(
        json.dumps(
            {"created_at": now.isoformat(), "database": settings.DATABASES["default"]["NAME"], "schema": schema},
            indent=2,
        )
        + "\n"
    )
    return Backup(dump=dump, manifest=manifest, schema=schema)


def _manifest_for(dump: Path) -> dict | None:
    path = dump.with_suffix(".json")
    return json.loads(path.read_text()) if path.exists() else None


def restore_check(*, dump: Path) -> dict | None:
    """Refuses a missing file, a database that is not empty, and a dump whose
    schema is newer than this code. -> the dump's manifest (None if it has none)."""
    if not dump.is_file():
        raise DomainError(f"No backup at {dump}.", code="not_found")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        (tables,) = cursor.fetchone()
    if tables:
        raise DomainError(
            f"The database {settings.DATABASES['default']['NAME']} is not empty ({tables} tables); "
            "restore into a new, empty database.",
            code="not_empty",
        )
    manifest = _manifest_for(dump)
    if manifest:
        unknown = sorted(set(manifest["schema"].items()) - _code_migrations())
        if unknown:
            listed = ", ".join(f"{app}.{name}" for app, name in unknown)
            raise DomainError(
                f"The backup's schema is newer than this code ({listed}); restore it with the release that made it.",
                code="schema_newer",
            )
    return manifest


def restore_load(*, dump: Path) -> None:
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={_pg_env()['PGDATABASE']}",
            str(dump),
        ]
    )
