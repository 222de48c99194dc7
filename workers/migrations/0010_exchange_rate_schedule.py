from django.conf import settings
from django.db import migrations

from workers.schedules import EXCHANGE_RATE_SCHEDULES, remove_schedules, sync_schedules


def create(apps, schema_editor):
    sync_schedules(apps, EXCHANGE_RATE_SCHEDULES, time_zone=settings.TIME_ZONE)


def remove(apps, schema_editor):
    remove_schedules(apps, EXCHANGE_RATE_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("workers", "0009_drop_celery_backend_cleanup")]

    operations = [migrations.RunPython(create, remove)]
