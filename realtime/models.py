from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """A persisted event. The bigint id is the resume cursor: a client that
    saw event N asks for everything after N, so ids must only grow."""

    id = models.BigAutoField(primary_key=True)
    # Null user = a broadcast to everyone.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="notifications"
    )
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # "this user's events after id N" (resume, after_id) is a range scan on it;
            # user IS NULL (broadcasts) uses the same index.
            models.Index(fields=["user", "id"], name="notification_user_id_idx"),
            models.Index(
                fields=["user", "id"], name="notification_user_unread_idx", condition=models.Q(read_at__isnull=True)
            ),
        ]

    def __str__(self):
        return f"{self.type} #{self.id}"
