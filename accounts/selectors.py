from django.db.models import QuerySet
from django.utils import timezone

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


def session_list(*, user: User) -> QuerySet[Session]:
    return Session.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-last_used_at"
    )


def session_get(*, user: User, session_id) -> Session | None:
    return session_list(user=user).filter(id=session_id).first()
