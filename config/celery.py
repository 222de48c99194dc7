import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tally")
# Every CELERY_* Django setting configures the app (broker, JSON, acks_late, limits).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _routes():
    from workers.routing import TASK_ROUTES

    return TASK_ROUTES


app.conf.task_routes = (lambda name, args, kwargs, options, task=None, **kw: _routes().get(name),)
