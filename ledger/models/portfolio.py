import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from config.models import TimeStampedModel


class PortfolioHolding(TimeStampedModel):
    """One position: so many units of an asset, what they cost in total
    (``cost_basis``) and what they were last worth in total
    (``last_valuation``, at ``last_price`` per unit, as of ``valued_at``)."""

    class AssetType(models.TextChoices):
        STOCK = "stock"
        ETF = "etf", "ETF"
        CRYPTO = "crypto"
        BOND = "bond"
        CASH = "cash"
        OTHER = "other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="holdings")
    asset_type = models.CharField(max_length=8, choices=AssetType.choices)
    identifier = models.CharField(max_length=64)
    name = models.CharField(max_length=255, blank=True, default="")
    currency = models.CharField(max_length=3, default="USD")
    units = models.DecimalField(max_digits=20, decimal_places=8)
    cost_basis = models.DecimalField(max_digits=12, decimal_places=2)
    last_price = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    last_valuation = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    valued_at = models.DateTimeField(null=True, blank=True)
    price_source = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        ordering = ["asset_type", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "asset_type", "identifier"], name="ledger_holding_user_type_identifier_uniq"
            ),
            models.CheckConstraint(condition=Q(units__gte=0), name="ledger_holding_units_nonnegative"),
            models.CheckConstraint(condition=Q(cost_basis__gte=0), name="ledger_holding_cost_nonnegative"),
        ]

    def __str__(self):
        return f"{self.units} {self.identifier} ({self.asset_type})"
