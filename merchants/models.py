import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models import F, Func, TextField
from django.db.models.functions import Lower

from config.models import TimeStampedModel
from merchants.categories import CATEGORY_MAX_LENGTH, Category


class Merchant(TimeStampedModel):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    canonical_name = models.CharField(max_length=200)
    # Lowercased, punctuation-free form of canonical_name: what search and
    # matching compare against (trigram-indexed).
    normalized_name = models.CharField(max_length=200, editable=False, default="")
    category = models.CharField(
        max_length=CATEGORY_MAX_LENGTH, choices=Category.choices, default=Category.UNCATEGORIZED
    )
    country = models.CharField(max_length=2, blank=True, default="")
    aliases = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    # normalize_merchant_text() of every alias: the alias tier and match_merchant
    # compare against it with array operators the GIN index serves.
    alias_keys = ArrayField(models.CharField(max_length=200), default=list, blank=True, editable=False)
    tags = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(Lower("canonical_name"), name="merchants_canonical_name_ci_unique")]
        indexes = [
            GinIndex(fields=["aliases"], name="merchants_aliases_gin", fastupdate=False),
            GinIndex(
                fields=["normalized_name"],
                opclasses=["gin_trgm_ops"],
                name="merchants_norm_name_trgm",
                fastupdate=False,
            ),
            GinIndex(fields=["alias_keys"], name="merchants_alias_keys_gin", fastupdate=False),
            # Equality and LIKE 'prefix%' on the normalised name (exact and prefix tiers).
            models.Index(
                fields=["normalized_name"], opclasses=["varchar_pattern_ops"], name="merchants_norm_name_pattern"
            ),
            models.Index(fields=["category"], name="merchants_category_idx"),
            # The one-typo tier: prefix deletion keys of the name (migration 0007, merchants.selectors).
            GinIndex(
                Func(F("normalized_name"), function="merchants_name_keys", output_field=ArrayField(TextField())),
                name="merchants_name_keys_gin",
                fastupdate=False,
            ),
        ]
        ordering = ["canonical_name"]

    def __str__(self):
        return self.canonical_name
