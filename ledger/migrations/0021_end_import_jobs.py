"""The first CSV importer's jobs stop: POST transactions/import now runs on
the statement importer (Import), and the task that ran jobs is gone. A job
still pending or running when this runs ends failed with a message saying
why (its file text is dropped); the table stays as history. Reversing does
nothing (the jobs stay failed: no task would run them)."""

from django.db import migrations
from django.utils import timezone

MESSAGE = (
    "Stopped by an upgrade: the CSV importer now runs on statement imports. Nothing from this file was "
    "written; upload it again (POST transactions/import or POST imports)."
)


def end_jobs(apps, schema_editor):
    ImportJob = apps.get_model("ledger", "ImportJob")
    ImportJob.objects.filter(status__in=["pending", "running"]).update(
        status="failed", error=MESSAGE, content="", finished_at=timezone.now()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0020_import_expired_status"),
    ]

    operations = [migrations.RunPython(end_jobs, migrations.RunPython.noop)]
