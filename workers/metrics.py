"""Application metrics on /metrics, next to django-prometheus's own.

Read when Prometheus scrapes, so every process's work shows whichever web
process answers: queue depths from the broker, counts from the database
(imports by status, dead letters, webhook deliveries by outcome in their
retention window), active login lockouts and open WebSockets from Redis, and
the Redis counters of config.metrics (events published and delivered, budget
alerts by level). A source that is down drops its metrics from that scrape
rather than failing it."""

import logging

import redis
from django.conf import settings
from django.db.models import Count
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from accounts.throttling import login_lockouts_active
from config.metrics import metric_counts, websockets_open
from ledger.models import Import
from realtime.models import WebhookDelivery
from workers.models import DeadLetter
from workers.routing import QUEUES

logger = logging.getLogger(__name__)

# kombu's Redis transport keeps a queue's prioritised messages in sibling lists.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


def _queue_depths() -> GaugeMetricFamily:
    family = GaugeMetricFamily("tally_celery_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"])
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        with client.pipeline(transaction=False) as pipe:
            for queue in QUEUES:
                for suffix in _PRIORITY_SUFFIXES:
                    pipe.llen(queue + suffix)
            lengths = pipe.execute()
    finally:
        client.close()
    per_queue = len(_PRIORITY_SUFFIXES)
    for index, queue in enumerate(QUEUES):
        family.add_metric([queue], sum(lengths[index * per_queue : (index + 1) * per_queue]))
    return family


def _by(model, field: str, name: str, documentation: str, label: str, choices) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=[label])
    counts = dict(model.objects.values_list(field).annotate(n=Count("pk")).order_by())
    for value in choices:
        family.add_metric([value], counts.get(value, 0))
    return family


def _dead_letters() -> GaugeMetricFamily:
    family = GaugeMetricFamily("tally_dead_letters", "Tasks that failed for good, by state.", labels=["state"])
    waiting = DeadLetter.objects.filter(requeued_at__isnull=True).count()
    family.add_metric(["waiting"], waiting)
    family.add_metric(["requeued"], DeadLetter.objects.count() - waiting)
    return family


def _counter(name: str, documentation: str, label: str) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=[label])
    for value, count in sorted(metric_counts(name.removeprefix("tally_")).items()):
        family.add_metric([value], count)
    return family


class TallyCollector:
    def describe(self):
        # Without it, registering would call collect() (and query the database) during app loading.
        return []

    def collect(self):
        sources = [
            _queue_depths,
            lambda: _by(
                Import, "status", "tally_imports", "Statement imports by status.", "status", Import.Status.values
            ),
            lambda: _by(
                WebhookDelivery,
                "status",
                "tally_webhook_deliveries",
                "Webhook deliveries by outcome (within the retention window).",
                "outcome",
                WebhookDelivery.Status.values,
            ),
            _dead_letters,
            lambda: _gauge(
                "tally_login_lockouts", "Clients locked out of logging in right now.", login_lockouts_active()
            ),
            lambda: _gauge(
                "tally_websocket_connections",
                "Open WebSocket connections, every web process.",
                websockets_open(stale_after_seconds=2 * float(settings.WS_HEARTBEAT_SECONDS) + 30),
            ),
            lambda: _counter("tally_events_published", "Events published to the channel layer, by type.", "type"),
            lambda: _counter("tally_events_delivered", "Events sent to WebSocket clients, by type.", "type"),
            lambda: _counter("tally_budget_alerts", "Budget alerts raised, by level.", "level"),
        ]
        for source in sources:
            try:
                yield source()
            except Exception as exc:  # a source that is down must not take /metrics with it
                logger.warning("metrics source failed (%s: %s)", type(exc).__name__, exc)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
