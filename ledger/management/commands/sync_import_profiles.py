from django.core.management.base import BaseCommand

from ledger.imports.profiles import import_profiles_sync_builtin


class Command(BaseCommand):
    help = "Create or update the built-in import profiles from the code (idempotent; make run does it)."

    def handle(self, *args, **options):
        count = import_profiles_sync_builtin()
        self.stdout.write(f"{count} built-in import profiles in sync.")
