from django.conf import settings
from django.db import migrations

from workers.schedules import WEEKLY_SUMMARY_SCHEDULES, remove_schedules, sync_schedules


def create(apps, schema_editor):
    sync_schedules(apps, WEEKLY_SUMMARY_SCHEDULES, time_zone=settings.TIME_ZONE)


def remove(apps, schema_editor):
    remove_schedules(apps, WEEKLY_SUMMARY_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("workers", "0003_weekly_summary_delivery")]

    operations = [migrations.RunPython(create, remove)]
