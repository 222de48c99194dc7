"""Failed-login limiting per client IP, counted atomically in Redis.

An attempt is counted "in flight" until it ends, and may start only while
failures plus attempts in flight stay under the limit, checked and counted in
one Lua script (so fifty parallel wrong passwords get exactly five tries).
Only a failed attempt joins the window's failures; a burst of good logins
from one address (an office behind NAT) is asked to retry in a second, never
locked out. DRF's cache throttles read-then-write and let bursts through,
which is why they are not used here."""

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
    inflight_key: str | None = None
    # "failures": the window's failures are used up; "busy": attempts in
    # flight could use them up, so this one waits a second.
    reason: str = ""


def _key(ip: str) -> str:
    return f"tally:login-failures:{ip}"


def _inflight_key(ip: str) -> str:
    return f"tally:login-inflight:{ip}"


# Atomic in Redis: refuse when the failures are used up, or when failures
# plus attempts still in flight could use them up (so fifty parallel wrong
# passwords get exactly five tries); otherwise count this attempt in flight.
_RESERVE = """
local limit = tonumber(ARGV[1])
local failures = tonumber(redis.call('GET', KEYS[1]) or '0')
if failures >= limit then
  return {0, redis.call('TTL', KEYS[1])}
end
local inflight = tonumber(redis.call('GET', KEYS[2]) or '0')
if failures + inflight >= limit then
  return {0, -100}
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
return {1, 0}
"""
# The attempt is over: it leaves the in-flight count and, if it failed, joins
# the window's failures (the window starts with the first failure).
_FINISH = """
local inflight = tonumber(redis.call('GET', KEYS[2]) or '0')
if inflight > 0 then
  redis.call('DECR', KEYS[2])
end
if ARGV[1] == '1' then
  redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
end
return 1
"""
# A login takes well under a second; an attempt whose process died stops
# counting as in flight after this long.
INFLIGHT_SECONDS = 30


def login_attempt_reserve(ip: str) -> Reservation:
    limit = settings.LOGIN_THROTTLE["MAX_FAILURES"]
    key, inflight_key = _key(ip), _inflight_key(ip)
    try:
        allowed, ttl = get_redis().eval(_RESERVE, 2, key, inflight_key, limit, INFLIGHT_SECONDS)
    except redis.RedisError:
        # Fail open: Redis down already makes /ready/ answer 503; locking every
        # user out of their money on top of that helps nobody.
        logger.exception("login throttle unavailable; allowing attempt")
        return Reservation(allowed=True, retry_after=0, key=None)
    if not allowed:
        busy = ttl == -100
        return Reservation(
            allowed=False, retry_after=1 if busy else max(int(ttl), 1), key=key, reason="busy" if busy else "failures"
        )
    return Reservation(allowed=True, retry_after=0, key=key, inflight_key=inflight_key)


def login_attempt_finish(reservation: Reservation, *, failed: bool) -> None:
    """Ends an allowed attempt; only a failed one counts against the address."""
    if reservation.key is None or reservation.inflight_key is None:
        return
    window = settings.LOGIN_THROTTLE["WINDOW_SECONDS"]
    try:
        get_redis().eval(_FINISH, 2, reservation.key, reservation.inflight_key, "1" if failed else "0", window)
    except redis.RedisError:
        logger.exception("could not record the end of a login attempt")
