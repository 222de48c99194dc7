from django.conf import settings
from django.db import migrations

from workers.schedules import DOMAIN_JOB_SCHEDULES, remove_schedules, sync_schedules


def create(apps, schema_editor):
    sync_schedules(apps, DOMAIN_JOB_SCHEDULES, time_zone=settings.TIME_ZONE)


def remove(apps, schema_editor):
    remove_schedules(apps, DOMAIN_JOB_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("workers", "0004_weekly_summary_schedule")]

    operations = [migrations.RunPython(create, remove)]
