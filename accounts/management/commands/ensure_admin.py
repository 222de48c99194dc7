from django.conf import settings
from django.core.management.base import BaseCommand

from accounts.models import User


class Command(BaseCommand):
    help = "Creates the first staff user from BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD if both are set."

    def handle(self, *args, **options):
        email, password = settings.BOOTSTRAP_ADMIN_EMAIL, settings.BOOTSTRAP_ADMIN_PASSWORD
        if not (email and password):
            self.stdout.write("BOOTSTRAP_ADMIN_EMAIL/PASSWORD not set; skipping (use `make superuser`).")
            return
        if User.objects.filter(email=User.objects.normalize_email(email)).exists():
            self.stdout.write(f"admin {email} already exists")
            return
        User.objects.create_superuser(email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"created admin {email}"))
