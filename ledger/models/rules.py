import uuid

from django.conf import settings
from django.db import models

from config.models import TimeStampedModel


class Rule(TimeStampedModel):
    """A user's rule: when `conditions` (a tree of all/any/not over leaves
    {field, op, value}, see ledger/rules/conditions.py) match a transaction,
    `actions` ([{type, value}], ledger/rules/actions.py) change it. Rules run
    in `position` order; `stop_processing` ends the pass."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=120)
    enabled = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    conditions = models.JSONField()
    actions = models.JSONField()
    stop_processing = models.BooleanField(default=False)
    applied_count = models.PositiveBigIntegerField(default=0)
    last_applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["user", "position", "created_at"]
        indexes = [models.Index(fields=["user", "position"], name="ledger_rule_user_position_idx")]

    def __str__(self):
        return self.name
