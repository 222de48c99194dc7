from django.conf import settings
from django.db import migrations

from workers.schedules import WEBHOOK_SCHEDULES, remove_schedules, sync_schedules


def create(apps, schema_editor):
    sync_schedules(apps, WEBHOOK_SCHEDULES, time_zone=settings.TIME_ZONE)


def remove(apps, schema_editor):
    remove_schedules(apps, WEBHOOK_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [("workers", "0007_portfolio_valuation_schedule")]

    operations = [migrations.RunPython(create, remove)]
