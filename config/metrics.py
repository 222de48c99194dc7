"""Application counters shared by every process, kept in Redis.

Web, worker and beat are separate processes (and `WEB_CONCURRENCY` daphne
processes share one socket, so a scrape reaches any one of them): a counter in
one process's memory would show that process only. These live in Redis hashes
instead, one hash per metric and one field per label value, and
workers.metrics exports them on /metrics. Counting is best effort: Redis being
down never fails the request, task or socket that counts."""

import logging
import time

import redis

from config.redis import get_redis

logger = logging.getLogger(__name__)

_PREFIX = "tally:metrics:"
WEBSOCKETS_KEY = _PREFIX + "websockets"


def metric_count(name: str, label: str = "", amount: int = 1) -> None:
    try:
        get_redis().hincrby(_PREFIX + name, label, amount)
    except redis.RedisError as exc:
        logger.warning("metric %s not counted (%s)", name, type(exc).__name__)


def metric_counts(name: str) -> dict[str, int]:
    """{label: count} of one counter."""
    return {key.decode(): int(value) for key, value in get_redis().hgetall(_PREFIX + name).items()}


# Open WebSocket connections: one member per connection, scored by when its
# consumer last confirmed it is alive, so a process that dies without saying
# goodbye stops being counted once its members go stale.


def websocket_seen(connection_id: str) -> None:
    try:
        get_redis().zadd(WEBSOCKETS_KEY, {connection_id: time.time()})
    except redis.RedisError as exc:
        logger.warning("websocket not counted (%s)", type(exc).__name__)


def websocket_gone(connection_id: str) -> None:
    try:
        get_redis().zrem(WEBSOCKETS_KEY, connection_id)
    except redis.RedisError as exc:
        logger.warning("websocket not uncounted (%s)", type(exc).__name__)


def websockets_open(*, stale_after_seconds: float) -> int:
    client = get_redis()
    client.zremrangebyscore(WEBSOCKETS_KEY, "-inf", time.time() - stale_after_seconds)
    return int(client.zcard(WEBSOCKETS_KEY))
