"""Login protection, counted atomically in Redis.

Per client IP: an attempt is counted before the password is checked and
refunded unless the password was wrong, in one Lua script each (so fifty
parallel wrong passwords get exactly five tries, and attempts in flight
count). A burst of good logins from one address (an office behind NAT) is
asked to retry in a second, never locked out; bad input or a server error is
not a failure. DRF's cache throttles read-then-write and let bursts through,
which is why they are not used here.

Per account (the e-mail address, whether or not it has an account, so the
answer never tells): wrong passwords from any address are counted, and the
N-th in the window locks the address for a fixed time (ACCOUNT_LOCKOUT); the
owner is mailed once per lock. The lock is time-boxed so a stranger cannot
lock anyone out for good, and a password reset lifts it.

Redis down: login fails closed (``ProtectionUnavailable``: 503 with
Retry-After), because without the counters it would be unlimited guessing."""

import hashlib
import ipaddress
import logging
from dataclasses import dataclass

import redis
from django.conf import settings

from config.proxies import is_trusted, trusted_networks
from config.redis import get_redis

logger = logging.getLogger(__name__)


def client_ip(meta) -> str:
    """The client's address: REMOTE_ADDR, unless it is a configured proxy, in
    which case the right-most X-Forwarded-For hop that is not itself a proxy.
    Hops a client wrote itself sit to the left and are never reached."""
    remote = meta.get("REMOTE_ADDR", "") or ""
    networks = trusted_networks()
    if not networks or not is_trusted(remote, networks):
        return remote
    hops = [hop.strip() for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, networks):
            return hop
    return remote


# While Redis is down, clients are asked to come back after this many seconds.
UNAVAILABLE_RETRY_AFTER = 30


class ProtectionUnavailable(Exception):
    """The counters cannot be read (Redis down): the attempt is refused."""

    retry_after = UNAVAILABLE_RETRY_AFTER


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
    except redis.RedisError as exc:
        # Fail closed: without the counters anyone could guess without limit.
        logger.warning("login throttle unavailable (%s); attempt refused", type(exc).__name__)
        raise ProtectionUnavailable() from exc
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


# --- per account ------------------------------------------------------------


def _account_subject(email: str) -> str:
    # Hashed: keys stay short and a Redis dump lists no addresses.
    return hashlib.sha256((email or "").strip().lower().encode()).hexdigest()


def _account_failures_key(email: str) -> str:
    return f"tally:login-account-failures:{_account_subject(email)}"


def _account_lock_key(email: str) -> str:
    return f"tally:login-account-lock:{_account_subject(email)}"


# A failure while locked changes nothing (the lock is time-boxed, never
# extended); the N-th failure in the window sets the lock and clears the count.
# Returns 1 only for the failure that locked.
_ACCOUNT_FAILURE = """
if redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
if count >= tonumber(ARGV[1]) then
  redis.call('SET', KEYS[2], '1', 'EX', ARGV[3])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""


def account_lock_remaining(email: str) -> int:
    """Seconds the address stays locked (0: not locked). Raises
    ProtectionUnavailable when Redis cannot answer."""
    try:
        ttl = get_redis().ttl(_account_lock_key(email))
    except redis.RedisError as exc:
        logger.warning("account lockout unavailable (%s); attempt refused", type(exc).__name__)
        raise ProtectionUnavailable() from exc
    return max(int(ttl), 1) if ttl != -2 else 0


def account_failure_record(email: str) -> bool:
    """Counts a wrong password for the address; True if it locked it now."""
    config = settings.ACCOUNT_LOCKOUT
    try:
        locked = get_redis().eval(
            _ACCOUNT_FAILURE,
            2,
            _account_failures_key(email),
            _account_lock_key(email),
            config["MAX_FAILURES"],
            config["WINDOW_SECONDS"],
            config["LOCK_SECONDS"],
        )
    except redis.RedisError:
        logger.exception("could not count a failed login for an account")
        return False
    return bool(locked)


def account_failures_clear(email: str, *, unlock: bool = False) -> None:
    """A good password forgets the failures; a password reset also lifts the lock."""
    keys = [_account_failures_key(email)] + ([_account_lock_key(email)] if unlock else [])
    try:
        get_redis().delete(*keys)
    except redis.RedisError:
        logger.exception("could not clear the failed logins of an account")


# --- fixed windows (password reset) -------------------------------------------

_HIT = """
local count = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2], 'NX')
if count > tonumber(ARGV[1]) then
  return redis.call('TTL', KEYS[1])
end
return 0
"""


def window_hit(name: str, subject: str, *, limit: int, window: int) -> int:
    """Counts one request of ``subject`` against ``limit`` per ``window``
    seconds: 0 if allowed, else the seconds until the window ends. Raises
    ProtectionUnavailable when Redis cannot answer."""
    key = f"tally:{name}:{hashlib.sha256(subject.encode()).hexdigest()}"
    try:
        wait = get_redis().eval(_HIT, 1, key, limit, window)
    except redis.RedisError as exc:
        logger.warning("%s limit unavailable (%s); request refused", name, type(exc).__name__)
        raise ProtectionUnavailable() from exc
    return max(int(wait), 1) if wait else 0


def password_reset_wait(*, ip: str, email: str) -> int:
    """0 if a reset mail may be asked for now, else seconds to wait: limited
    per client IP (one sender mailing many) and per address (many senders
    flooding one victim)."""
    config = settings.PASSWORD_RESET_THROTTLE
    window = config["WINDOW_SECONDS"]
    waits = [
        window_hit("password-reset-ip", _subject(ip), limit=config["PER_IP"], window=window),
        window_hit("password-reset-address", (email or "").strip().lower(), limit=config["PER_ADDRESS"], window=window),
    ]
    return max(waits)
