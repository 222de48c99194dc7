"""manage.py backup [--dir DIR]: pg_dump (custom format) plus a manifest with the schema version."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from workers.backups import backup_create


class Command(BaseCommand):
    help = "Back up the database: DIR/tally-<db>-<time>.dump (pg_dump -Fc) and .json (the schema version)."

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=Path("backups"), help="Where to write (default ./backups).")

    def handle(self, *args, dir: Path, **options):
        try:
            backup = backup_create(directory=dir)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        self.stdout.write(f"backup: {backup.dump}")
        self.stdout.write(f"schema: {backup.manifest} ({len(backup.schema)} apps)")
