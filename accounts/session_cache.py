"""The per-request session check from Redis (the Django cache) instead of the
database: one MGET of the session's key and its user's key.

The database stays the record. A miss, an unreadable cache (Redis away) or a
cached expiry that has passed goes to the database, which then fills the
cache. Ending a session writes a tombstone under its key rather than deleting
it: readers fill misses with ``add`` (set if absent), so a reader that loaded
the session from the database just before the revocation committed cannot
put it back as live. A live entry lives at most ``LIVE_SECONDS``: should a
tombstone ever fail to be written (Redis unreachable at that moment, back
later with the old entry), that bounds how long it could be believed.

The user is cached beside the session (one key per user, shared by their
sessions) and dropped on every save or delete of the user (signals.py)."""

from datetime import datetime

from django.conf import settings

from config.cache import cache_add, cache_delete, cache_get_many, cache_set

ENDED = "ended"
LIVE_SECONDS = 60
USER_SECONDS = 300


def session_key(session_id) -> str:
    return f"auth:session:{session_id}"


def user_key(user_id) -> str:
    return f"auth:user:{user_id}"


def cached_user(*, session_id, user_id, now: datetime):
    """``(user, known)``: the cached live user of the session, or ``known``
    True with no user when the session is known to have ended; ``(None,
    False)`` means ask the database."""
    keys = [session_key(session_id), user_key(user_id)]
    found = cache_get_many(keys)
    entry = found.get(keys[0])
    if entry == ENDED:
        return None, True
    user = found.get(keys[1])
    if not entry or user is None or str(entry[0]) != str(user_id) or entry[1] <= now.timestamp():
        return None, False
    return user, True


def remember(*, session, now: datetime) -> None:
    """Fills the cache after a database read found the session live."""
    life = min(LIVE_SECONDS, int(session.expires_at.timestamp() - now.timestamp()))
    if life <= 0:
        return
    user = session.user
    cache_add(session_key(session.id), (str(user.pk), session.expires_at.timestamp()), life)
    cache_add(user_key(user.pk), user, USER_SECONDS)


def mark_ended(session_id) -> None:
    """The session's tombstone; it outlives every access token of the session."""
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + LIVE_SECONDS
    cache_set(session_key(session_id), ENDED, lifetime)


def forget_user(user_id) -> None:
    cache_delete(user_key(user_id))
