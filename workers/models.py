import uuid

from django.db import models


class DeadLetter(models.Model):
    """A task that failed for good: permanent error, or transient errors past
    its retries. Admin can requeue it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task_name = models.CharField(max_length=255)
    task_id = models.CharField(max_length=255, blank=True, default="")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    exception = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    failed_at = models.DateTimeField(auto_now_add=True)
    requeued_at = models.DateTimeField(null=True, blank=True)
    requeue_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-failed_at"]
        indexes = [models.Index(fields=["task_name", "-failed_at"], name="workers_deadletter_task_idx")]

    def __str__(self):
        return f"{self.task_name} failed at {self.failed_at:%Y-%m-%d %H:%M}"


class WeeklySummaryDelivery(models.Model):
    """One row per user and week sent: makes the weekly job idempotent."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="weekly_summaries")
    week_start = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "week_start"], name="workers_weekly_summary_once"),
        ]

    def __str__(self):
        return f"{self.user} {self.week_start}"


class MonthlyReportDelivery(models.Model):
    """One row per user and month reported: the monthly job sends once."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="monthly_reports")
    month = models.DateField(help_text="The 1st of the month reported.")
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "month"], name="workers_monthly_report_once"),
        ]

    def __str__(self):
        return f"{self.user} {self.month:%Y-%m}"
