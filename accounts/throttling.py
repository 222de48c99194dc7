"""Failed-login limiting per client IP, counted atomically in Redis.

An attempt is counted before the password is checked and refunded unless
the password was wrong, in one Lua script each (so fifty parallel wrong
passwords get exactly five tries, and attempts in flight count). A burst of
good logins from one address (an office behind NAT) is asked to retry in a
second, never locked out; bad input or a server error is not a failure.
DRF's cache throttles read-then-write and let bursts through, which is why
they are not used here."""

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
    confirmed_key: str | None = None
    # "failures": the window's failures are used up; "busy": attempts in
    # flight could use them up, so this one waits a second.
    reason: str = ""


def _subject(ip: str) -> str:
    """IPv6 clients are limited per /64, the block one subscriber holds."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return ip


def _key(ip: str) -> str:
    return f"tally:login-failures:{_subject(ip)}"


def _confirmed_key(ip: str) -> str:
    return f"tally:login-failures-confirmed:{_subject(ip)}"


# Every attempt is counted as a failure before the password is checked, and
# refunded if it succeeds or never reached the check, so attempts in flight
# count too: fifty parallel wrong passwords get exactly five tries, and a
# process that dies mid-login leaves a failure, never a free slot. An attempt
# over the limit takes nothing. It is told "busy" (retry in a second) unless
# real failures used the window up.
_RESERVE = """
local limit = tonumber(ARGV[1])
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
if count <= limit then
  return {1, 0}
end
redis.call('DECR', KEYS[1])
local failures = tonumber(redis.call('GET', KEYS[2]) or '0')
if failures >= limit then
  return {0, redis.call('TTL', KEYS[1])}
end
return {0, -100}
"""
_REFUND = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then
  redis.call('DECR', KEYS[1])
end
return 1
"""
_CONFIRM = """
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[1], 'NX')
return 1
"""


def login_attempt_reserve(ip: str) -> Reservation:
    limit = settings.LOGIN_THROTTLE["MAX_FAILURES"]
    window = settings.LOGIN_THROTTLE["WINDOW_SECONDS"]
    key, confirmed_key = _key(ip), _confirmed_key(ip)
    try:
        allowed, ttl = get_redis().eval(_RESERVE, 2, key, confirmed_key, limit, window)
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
    return Reservation(allowed=True, retry_after=0, key=key, confirmed_key=confirmed_key)


def login_attempt_finish(reservation: Reservation, *, failed: bool) -> None:
    """Ends an allowed attempt: a wrong password keeps its count (and is
    recorded as a confirmed failure); anything else is refunded."""
    if reservation.key is None or reservation.confirmed_key is None:
        return
    window = settings.LOGIN_THROTTLE["WINDOW_SECONDS"]
    keys = (reservation.key, reservation.confirmed_key)
    try:
        if failed:
            get_redis().eval(_CONFIRM, 2, *keys, window)
        else:
            get_redis().eval(_REFUND, 2, *keys)
    except redis.RedisError:
        logger.exception("could not record the end of a login attempt")


def login_lockouts_active() -> int:
    """How many clients (an IP, or an IPv6 /64) are locked out of logging in
    right now: their confirmed failures in the window reached the limit."""
    limit = settings.LOGIN_THROTTLE["MAX_FAILURES"]
    client = get_redis()
    keys = list(client.scan_iter(match=_confirmed_key("*"), count=1000))
    if not keys:
        return 0
    return sum(1 for value in client.mget(keys) if value is not None and int(value) >= limit)
