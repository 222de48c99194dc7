from django.conf import settings
from django.db import migrations

from workers.schedules import MONTHLY_REPORT_SCHEDULES, remove_schedules, sync_schedules


def create(apps, schema_editor):
    sync_schedules(apps, MONTHLY_REPORT_SCHEDULES, time_zone=settings.TIME_ZONE)


def remove(apps, schema_editor):
    remove_schedules(apps, MONTHLY_REPORT_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("workers", "0011_monthly_report_delivery")]

    operations = [migrations.RunPython(create, remove)]
