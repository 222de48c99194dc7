import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone

from config.models import TimeStampedModel


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


class WebhookEndpoint(TimeStampedModel):
    """A user's receiver of signed event deliveries. The secret signs every
    delivery; after a rotation the previous one also signs until
    previous_secret_expires_at, so receivers can switch without a gap."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = ArrayField(models.CharField(max_length=40))
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    enabled = models.BooleanField(default=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["user", "enabled"], name="webhook_endpoint_user_idx")]

    def __str__(self):
        return self.url


class WebhookDelivery(TimeStampedModel):
    """One event for one endpoint; retried until it succeeds or runs out of
    attempts. event_id is the Notification id (kept as a number: the
    notification may be cleaned up before the delivery log is)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.BigIntegerField(null=True, blank=True)
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    is_test = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            # One delivery per event, type and endpoint: a fan-out that runs twice adds nothing.
            models.UniqueConstraint(
                fields=["endpoint", "event_id", "event_type"],
                name="webhook_delivery_once",
                condition=models.Q(event_id__isnull=False),
            )
        ]
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx"),
            models.Index(
                fields=["next_attempt_at"], name="webhook_delivery_due_idx", condition=models.Q(status="pending")
            ),
        ]

    def __str__(self):
        return f"{self.event_type} -> {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """The log of one HTTP attempt of a delivery."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveIntegerField()
    succeeded = models.BooleanField()
    response_code = models.PositiveIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["delivery", "number", "id"]
        indexes = [models.Index(fields=["delivery", "number"], name="webhook_attempt_delivery_idx")]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"
