from django.conf import settings
from django.db import migrations

from workers.schedules import IMPORT_SWEEP_SCHEDULES, remove_schedules, sync_schedules


def create(apps, schema_editor):
    sync_schedules(apps, IMPORT_SWEEP_SCHEDULES, time_zone=settings.TIME_ZONE)


def remove(apps, schema_editor):
    remove_schedules(apps, IMPORT_SWEEP_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("workers", "0012_monthly_report_schedule")]

    operations = [migrations.RunPython(create, remove)]
