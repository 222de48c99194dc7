"""celery.backend_cleanup, installed by beat while results had an expiry,
does what the "Old task result cleanup" schedule does: removed (settings now
set CELERY_RESULT_EXPIRES = None, so beat does not add it back). Reversing
leaves it removed: beat recreated it by itself, not a migration."""

from django.db import migrations


def drop(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name="celery.backend_cleanup").delete()


class Migration(migrations.Migration):
    dependencies = [("workers", "0008_webhook_schedules"), ("django_celery_beat", "0001_initial")]

    operations = [migrations.RunPython(drop, migrations.RunPython.noop)]
