"""One shared redis-py client for counters and cooldowns that need atomic
commands (INCR, SET NX) the Django cache API does not expose."""

from functools import lru_cache

import redis
from django.conf import settings


@lru_cache(maxsize=4)
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30)


def get_redis() -> redis.Redis:
    return _client_for(settings.REDIS_URL)
