from django.db.models import Q, QuerySet

from realtime.models import Notification


def notification_list(*, user, after_id: int | None = None, unread: bool | None = None) -> QuerySet[Notification]:
    """The user's own notifications, oldest first (ids are the cursor)."""
    rows = Notification.objects.filter(user=user)
    if after_id is not None:
        rows = rows.filter(id__gt=after_id)
    if unread is True:
        rows = rows.filter(read_at__isnull=True)
    elif unread is False:
        rows = rows.filter(read_at__isnull=False)
    return rows.order_by("id")


def notification_replay(*, user_id, after_id: int, limit: int = 500) -> list[Notification]:
    """One page of what a resuming socket missed: the user's events and the
    broadcasts after ``after_id``, in id order (two range scans on (user, id))."""
    return list(
        Notification.objects.filter(Q(user_id=user_id) | Q(user__isnull=True), id__gt=after_id).order_by("id")[:limit]
    )
