"""Failed-login limiting per client IP, counted atomically in Redis.

An attempt first reserves a slot with INCR (so fifty parallel attempts get
fifty distinct counts and only the first few proceed); a successful login
gives its slot back. DRF's cache throttles read-then-write and let bursts
through, which is why they are not used here."""

import ipaddress
import logging
from dataclasses import dataclass

import redis
from django.conf import settings

from config.redis import get_redis

logger = logging.getLogger(__name__)


def _trusted_networks():
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES]


def _is_trusted(address, networks):
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(meta) -> str:
    """The client's address: REMOTE_ADDR, unless it is a configured proxy, in
    which case the right-most X-Forwarded-For hop that is not itself a proxy.
    Hops a client wrote itself sit to the left and are never reached."""
    remote = meta.get("REMOTE_ADDR", "") or ""
    networks = _trusted_networks()
    if not networks or not _is_trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return remote


@dataclass(frozen=True)
class Reservation:
    allowed: bool
    retry_after: int
    key: str | None


def _key(ip: str) -> str:
    return f"tally:login-failures:{ip}"


def login_attempt_reserve(ip: str) -> Reservation:
    limit = settings.LOGIN_THROTTLE["MAX_FAILURES"]
    window = settings.LOGIN_THROTTLE["WINDOW_SECONDS"]
    key = _key(ip)
    try:
        pipe = get_redis().pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, window, nx=True)
        pipe.ttl(key)
        count, _, ttl = pipe.execute()
    except redis.RedisError:
        # Fail open: Redis down already makes /ready/ answer 503; locking every
        # user out of their money on top of that helps nobody.
        logger.exception("login throttle unavailable; allowing attempt")
        return Reservation(allowed=True, retry_after=0, key=None)
    if count > limit:
        return Reservation(allowed=False, retry_after=max(int(ttl), 1), key=key)
    return Reservation(allowed=True, retry_after=0, key=key)


def login_attempt_release(reservation: Reservation) -> None:
    """A successful login does not count as a failure."""
    if reservation.key is None:
        return
    try:
        get_redis().decr(reservation.key)
    except redis.RedisError:
        logger.exception("could not release login attempt")
