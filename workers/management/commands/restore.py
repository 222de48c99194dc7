"""manage.py restore FILE: into an empty database, then migrate, then verify_ledger.

Exit codes: 0 restored and verified; 1 the restored ledger fails verification
(or pg_restore failed); 2 usage: no such file, the database is not empty, or
the backup's schema is newer than this code."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from config.errors import DomainError
from workers.backups import restore_check, restore_load

EXIT_REFUSED = 2


class Command(BaseCommand):
    help = "Restore a `make backup` dump into an empty database, migrate it, and verify the ledger."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        try:
            manifest = restore_check(dump=file)
        except DomainError as exc:
            raise CommandError(exc.detail, returncode=EXIT_REFUSED) from exc
        if manifest:
            self.stdout.write(f"restoring {file} (made {manifest['created_at']} from {manifest['database']})")
        try:
            restore_load(dump=file)
        except DomainError as exc:
            raise CommandError(exc.detail) from exc
        call_command("migrate", "--no-input", verbosity=0, stdout=self.stdout)
        self.stdout.write("migrated; verifying the ledger")
        try:
            call_command("verify_ledger", stdout=self.stdout)
        except CommandError as exc:
            if exc.returncode != 2:  # 2 is "nothing anchored yet": a fine ledger to restore
                raise
            self.stdout.write("no anchored batch to verify")
        except SystemExit as exc:
            raise CommandError("The restored ledger fails verification; see above.", returncode=1) from exc
        self.stdout.write(self.style.SUCCESS("restored"))
