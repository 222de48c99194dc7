from django.conf import settings
from django.db import migrations

from workers.schedules import FOUNDATION_SCHEDULES, remove_schedules, sync_schedules


def create(apps, schema_editor):
    sync_schedules(apps, FOUNDATION_SCHEDULES, time_zone=settings.TIME_ZONE)


def remove(apps, schema_editor):
    remove_schedules(apps, FOUNDATION_SCHEDULES)


class Migration(migrations.Migration):
    dependencies = [
        ("workers", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create, remove)]
