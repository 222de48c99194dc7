import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.models import TimeStampedModel


class Recurrence(TimeStampedModel):
    """A detected subscription or other regular payment: one per user and
    normalised merchant text (so merchants the catalogue does not know can
    recur too). Detection updates the row in place; ``dismissed`` is the
    user's and detection never clears it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recurrences")
    merchant = models.ForeignKey(
        "merchants.Merchant", null=True, blank=True, on_delete=models.SET_NULL, related_name="recurrences"
    )
    merchant_key = models.CharField(max_length=255)
    merchant_name = models.CharField(max_length=255, blank=True, default="")
    amount_mean = models.DecimalField(max_digits=12, decimal_places=2)
    # What amount_mean is in: the charges' own currency when they share one,
    # else the user's base currency (the mean of their amount_base).
    currency = models.CharField(max_length=3, blank=True, default="")
    period_days = models.PositiveIntegerField()
    last_date = models.DateField()
    next_expected_date = models.DateField()
    confidence = models.FloatField(default=0.0)
    occurrences = models.PositiveIntegerField(default=0)
    dismissed = models.BooleanField(default=False)
    # The expected date a reminder was last sent for: one reminder per date.
    last_reminded_for = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant_key"], name="ledger_recurrence_user_merchant_key_uniq"),
        ]
        indexes = [
            models.Index(
                fields=["next_expected_date"], name="ledger_recurrence_next_idx", condition=Q(dismissed=False)
            ),
        ]

    def __str__(self):
        return f"{self.merchant_name or self.merchant_key} every {self.period_days}d"
