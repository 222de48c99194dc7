from django.db.models import QuerySet
from django.utils import timezone

from accounts import session_cache
from accounts.models import Session, User


def session_get_active(*, session_id, user_id, now=None) -> Session | None:
    now = now or timezone.now()
    try:
        return (
            Session.objects.select_related("user")
            .filter(id=session_id, user_id=user_id, revoked_at__isnull=True, expires_at__gt=now)
            .first()
        )
    except (ValueError, TypeError):
        return None


def session_user_get_active(*, session_id, user_id, now=None) -> User | None:
    """The live session's active user, for the check every API request makes:
    from the cache when it knows the session (no query), else from the
    database, which then fills the cache (accounts/session_cache.py)."""
    now = now or timezone.now()
    user, known = session_cache.cached_user(session_id=session_id, user_id=user_id, now=now)
    if known:
        return user if user is not None and user.is_active else None
    session = session_get_active(session_id=session_id, user_id=user_id, now=now)
    if session is None or not session.user.is_active:
        return None
    session_cache.remember(session=session, now=now)
    return session.user


def session_list(*, user: User) -> QuerySet[Session]:
    return Session.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_used_at"
    )


def session_get(*, user: User, session_id) -> Session | None:
    return session_list(user=user).filter(id=session_id).first()
