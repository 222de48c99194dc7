"""Best-effort Redis: the Django cache and the cooldown keys are
accelerators, never the record. Redis being away costs a cache miss or a
skipped cooldown, logged here, and never fails a request or a write that
PostgreSQL already committed. The one place that decides which errors mean
"Redis is unavailable"."""

import logging
from collections.abc import Callable
from typing import TypeVar

import redis
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

logger = logging.getLogger(__name__)

T = TypeVar("T")

# redis-py's own errors, plus what a socket raises before redis-py wraps it.
REDIS_UNAVAILABLE = (redis.RedisError, ConnectionError, TimeoutError, OSError)


def best_effort(operation: Callable[[], T], *, default: T, what: str) -> T:
    """``operation()``, or ``default`` (with a warning) when Redis is unavailable."""
    try:
        return operation()
    except REDIS_UNAVAILABLE as exc:
        logger.warning("%s skipped: Redis unavailable (%s: %s)", what, type(exc).__name__, exc)
        return default


def cache_get(key: str, default=None):
    return best_effort(lambda: cache.get(key, default), default=default, what=f"cache read of {key}")


def cache_set(key: str, value, timeout: float | None) -> bool:
    return best_effort(lambda: cache.set(key, value, timeout) or True, default=False, what=f"cache write of {key}")


def cache_delete(key: str) -> bool:
    return best_effort(lambda: cache.delete(key) or True, default=False, what=f"cache delete of {key}")


def cache_get_many(keys: list[str]) -> dict:
    return best_effort(lambda: cache.get_many(keys), default={}, what=f"cache read of {len(keys)} keys")


def cache_add(key: str, value, timeout: float | None) -> bool:
    """Set only if absent (what a reader filling a miss wants: it never
    overwrites a newer value, such as a revocation's tombstone)."""
    return best_effort(lambda: cache.add(key, value, timeout), default=False, what=f"cache add of {key}")


def cache_delete_many(keys: list[str]) -> bool:
    return best_effort(lambda: cache.delete_many(keys) or True, default=False, what=f"cache delete of {len(keys)} keys")


class ReusedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis cache client builds a new redis.Redis object on every
    cache call (its __init__ fills a table of ~200 response callbacks): 40% of
    the session check's MGET in-process. One client per connection pool
    instead; redis-py clients are thread-safe and share the pool anyway."""

    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class TallyRedisCache(DjangoRedisCache):
    """settings.CACHES' backend: Django's RedisCache with the client above."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
