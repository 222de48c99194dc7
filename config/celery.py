import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("tally")
# Every CELERY_* Django setting configures the app (broker, JSON, acks_late, limits).
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def use_django_logging(**_kwargs):
    """Worker and beat log through settings.LOGGING (structured, redacted) instead
    of Celery's own plain handlers."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


def _routes():
    from workers.routing import TASK_ROUTES

    return TASK_ROUTES


def route_by_name(name, args, kwargs, options, task=None, **kw):
    route = _routes().get(name)
    return dict(route) if route else None  # a copy: Celery expands it in place


app.conf.task_routes = (route_by_name,)
