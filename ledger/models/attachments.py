import uuid

from django.conf import settings
from django.db import models

from config.models import TimeStampedModel


def attachment_path(instance, filename):
    # The stored name never uses the client's filename: no traversal, no collisions.
    return f"attachments/{instance.user_id}/{instance.id}"


class Attachment(TimeStampedModel):
    """A receipt or document on a transaction. sha256 and the CIDv1 (raw codec,
    sha2-256, base32) identify the bytes; the file lives in Django's default storage."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transaction = models.ForeignKey("ledger.Transaction", on_delete=models.CASCADE, related_name="attachments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    cid = models.CharField(max_length=100)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["transaction", "created_at"], name="attachment_transaction_idx")]

    def __str__(self):
        return self.filename
