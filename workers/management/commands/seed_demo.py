"""manage.py seed_demo [--users N] [--months M]: demo users with a year of activity."""

from django.core.management.base import BaseCommand, CommandError

from workers.demo import demo_seed


class Command(BaseCommand):
    help = "Create demo users with months of realistic activity (idempotent) and print their login."

    def add_arguments(self, parser):
        parser.add_argument("--users", type=int, default=1, help="How many demo users (default 1).")
        parser.add_argument("--months", type=int, default=12, help="Months of history per user (default 12).")

    def handle(self, *args, users: int, months: int, **options):
        if users < 1 or not 1 <= months <= 120:
            raise CommandError("--users must be at least 1 and --months between 1 and 120.")
        for login in demo_seed(users=users, months=months):
            state = "created" if login.created else "already there"
            self.stdout.write(
                f"demo login: {login.email} / {login.password}  ({state}, {login.transactions} transactions)"
            )
