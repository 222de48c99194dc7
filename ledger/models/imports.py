import uuid

from django.conf import settings
from django.db import models

from config.models import TimeStampedModel


class ImportJob(TimeStampedModel):
    """One CSV import. Small files finish in the request and the row only
    records the outcome; large ones keep the file text here until the
    high-priority task has run it (tasks take ids, not payloads)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs")
    account = models.ForeignKey(
        "ledger.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    filename = models.CharField(max_length=255, blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    content = models.TextField(blank=True, default="")
    atomic = models.BooleanField(default=False)
    force_rows = models.JSONField(default=list, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    summary = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_importjob_user_idx")]

    def __str__(self):
        return f"import {self.id} {self.status}"
