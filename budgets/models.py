import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from config.models import TimeStampedModel
from merchants.categories import CATEGORY_MAX_LENGTH, Category


class Budget(TimeStampedModel):
    """A spending limit for one category over one period (start_date..end_date,
    both inclusive). One per user and category; renewal moves the dates forward
    and closes the old period into a BudgetPeriod."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="budgets")
    category = models.CharField(max_length=CATEGORY_MAX_LENGTH, choices=Category.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    start_date = models.DateField()
    end_date = models.DateField()
    auto_renew = models.BooleanField(default=True)
    # Alert state for the current period (see services.budget_alerts_evaluate):
    # the level spending sits at now, and the highest level already sent.
    alert_period_start = models.DateField(null=True, blank=True, editable=False)
    alert_level = models.PositiveSmallIntegerField(default=0, editable=False)
    alert_max_level = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["category"]
        constraints = [
            models.UniqueConstraint(fields=["user", "category"], name="budgets_budget_user_category_uniq"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="budgets_budget_amount_positive"),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="budgets_budget_dates_ordered"),
        ]
        indexes = [
            # renew_due_budgets: auto-renewing budgets whose period has ended.
            models.Index(fields=["end_date"], name="budgets_budget_renew_due_idx", condition=Q(auto_renew=True)),
        ]

    def __str__(self):
        return f"{self.category} {self.amount} ({self.start_date}..{self.end_date})"


class BudgetPeriod(models.Model):
    """A closed period of a budget: what was budgeted and what was spent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    budget = models.ForeignKey(Budget, on_delete=models.CASCADE, related_name="periods")
    category = models.CharField(max_length=CATEGORY_MAX_LENGTH, choices=Category.choices)
    start_date = models.DateField()
    end_date = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    # A sum of amounts of up to 12 digits each: wider than any one of them.
    spent = models.DecimalField(max_digits=20, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            # One row per period: makes renewal idempotent and serves history (budget, start_date DESC).
            models.UniqueConstraint(fields=["budget", "start_date"], name="budgets_period_budget_start_uniq"),
            models.CheckConstraint(condition=Q(end_date__gt=F("start_date")), name="budgets_period_dates_ordered"),
        ]

    def __str__(self):
        return f"{self.category} {self.start_date}..{self.end_date}: {self.spent}/{self.amount}"
