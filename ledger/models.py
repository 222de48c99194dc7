import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q

from config.models import TimeStampedModel
from merchants.categories import CATEGORY_MAX_LENGTH, Category


class MerkleBatch(models.Model):
    """One night's anchoring: the Merkle root over every transaction created
    before ``cutoff`` that no earlier batch holds (see ledger/merkle.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch_date = models.DateField(unique=True)
    root_hash = models.CharField(max_length=64)
    transaction_count = models.PositiveIntegerField(default=0)
    anchor_backend = models.CharField(max_length=32, default="local")
    anchor_ref = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cutoff = models.DateTimeField(null=True, blank=True)
    hash_version = models.PositiveSmallIntegerField(default=1)
    # Roots of each run of ``chunk_size`` leaves (32 bytes each, in order): a
    # proof reads one chunk of leaf hashes plus these, not the whole batch.
    chunk_size = models.PositiveIntegerField(default=1024)
    chunk_roots = models.BinaryField(default=bytes, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_ok = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-batch_date"]

    def __str__(self):
        return f"{self.batch_date} {self.root_hash[:12]}"


class MerkleChunk(models.Model):
    """The anchored leaves of one run of ``chunk_size`` leaves of a batch, kept
    apart from the transaction rows: a row edited or deleted later cannot
    take its neighbours' proofs with it, and verification compares each row
    with what was anchored rather than with a column that may be rewritten."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(MerkleBatch, on_delete=models.CASCADE, related_name="chunks")
    chunk_index = models.PositiveIntegerField()
    # 32-byte transaction hashes and 16-byte transaction ids, in leaf order.
    transaction_hashes = models.BinaryField()
    transaction_ids = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "chunk_index"], name="ledger_merklechunk_batch_index_uniq")
        ]

    def __str__(self):
        return f"{self.batch_id} chunk {self.chunk_index}"


class Transaction(TimeStampedModel):
    """One money movement. A positive amount is money out (spending), a
    negative one money in (income, refunds), as card statements show it."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        CSV = "csv"
        OCR = "ocr"
        SMS = "sms"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transactions")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    date = models.DateField()
    merchant_raw = models.CharField(max_length=255)
    # Normalised merchant text: the key for duplicate detection.
    merchant_normalized = models.CharField(max_length=255, default="", editable=False)
    merchant = models.ForeignKey(
        "merchants.Merchant", null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    category = models.CharField(
        max_length=CATEGORY_MAX_LENGTH, choices=Category.choices, default=Category.UNCATEGORIZED
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    notes = models.TextField(blank=True, default="")
    external_id = models.CharField(max_length=128, blank=True, default="")
    confidence = models.JSONField(default=dict, blank=True)
    anomaly_score = models.FloatField(null=True, blank=True)
    blockchain_hash = models.CharField(max_length=64, blank=True, default="")
    ipfs_cid = models.CharField(max_length=128, blank=True, default="")
    # Indexed through the (merkle_batch, leaf_index) constraint below.
    merkle_batch = models.ForeignKey(
        MerkleBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="transactions", db_index=False
    )
    leaf_index = models.PositiveIntegerField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    search_vector = models.GeneratedField(
        expression=SearchVector("merchant_raw", "notes", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_transaction_amount_nonzero"),
            models.UniqueConstraint(
                fields=["merkle_batch", "leaf_index"],
                name="ledger_tx_batch_leaf_uniq",
                condition=Q(merkle_batch__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-date"], name="ledger_tx_user_date_idx"),
            models.Index(fields=["user", "category"], name="ledger_tx_user_category_idx"),
            models.Index(fields=["anomaly_score"], name="ledger_tx_anomalous_idx", condition=Q(anomaly_score__gt=0.5)),
            GinIndex(fields=["search_vector"], name="ledger_tx_search_gin"),
            models.Index(
                fields=["user", "external_id"], name="ledger_tx_user_external_idx", condition=~Q(external_id="")
            ),
            # The list's default order (newest first, id as tie-break) over live
            # rows only: first pages, counts and keyset pages read this index.
            models.Index(
                fields=["user", "-date", "-id"], name="ledger_tx_user_live_date_idx", condition=Q(is_deleted=False)
            ),
            # Duplicate detection: same user, date, amount and normalised merchant.
            models.Index(
                fields=["user", "date", "amount", "merchant_normalized"],
                name="ledger_tx_user_dup_idx",
                condition=Q(is_deleted=False),
            ),
            # Budget spending: a sum per (user, category) over a date range,
            # answered from the index alone (amount is included).
            models.Index(
                fields=["user", "category", "date"],
                name="ledger_tx_user_cat_date_idx",
                include=["amount"],
                condition=Q(is_deleted=False),
            ),
            # Nightly anchoring reads the live, unanchored rows in leaf order.
            models.Index(
                fields=["created_at", "id"],
                name="ledger_tx_unanchored_idx",
                condition=Q(merkle_batch__isnull=True, is_deleted=False),
            ),
        ]

    def __str__(self):
        return f"{self.date} {self.merchant_raw} {self.amount} {self.currency}"


class CategoryCorrection(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="corrections")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="category_corrections")
    old_category = models.CharField(max_length=CATEGORY_MAX_LENGTH, choices=Category.choices)
    new_category = models.CharField(max_length=CATEGORY_MAX_LENGTH, choices=Category.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_correction_user_idx")]

    def __str__(self):
        return f"{self.old_category} -> {self.new_category}"


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
