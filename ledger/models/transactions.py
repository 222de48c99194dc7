import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from config.models import TimeStampedModel
from merchants.categories import CATEGORY_MAX_LENGTH, Category

# A note is a sentence or a paragraph (the API refuses more; imports cut a longer memo).
NOTES_MAX_LENGTH = 2000


class _ConvertedByTheDatabase:
    """A column the ledger_transaction_convert trigger writes on every
    insert and on every update of amount, currency, date or base_currency
    (migration 0015): INSERT ... RETURNING brings its value back, so a
    created row carries it without another query."""

    db_returning = True


class AmountBaseField(_ConvertedByTheDatabase, models.DecimalField):
    pass


class BaseCurrencyField(_ConvertedByTheDatabase, models.CharField):
    pass


class RateDateField(_ConvertedByTheDatabase, models.DateField):
    pass


class TransactionQuerySet(models.QuerySet):
    """The ledger's filters, stated once:
    ``Transaction.objects.live().for_user(user).between(start, end)``."""

    def live(self):
        """Not soft-deleted: what lists, budgets, summaries and scores see."""
        return self.filter(is_deleted=False)

    def standard(self):
        """Spending and income only: not transfer legs or reconciliation adjustments."""
        return self.filter(kind="standard")

    def on_budget(self):
        """In an account whose spending counts toward budgets (not an
        off-budget, tracking-only account such as a loan or an investment)."""
        return self.filter(account__on_budget=True)

    def for_user(self, user):
        """One user's rows (a user or a user id)."""
        return self.filter(user_id=getattr(user, "pk", user))

    def between(self, start, end):
        """Dated from ``start`` to ``end``, both included."""
        return self.filter(date__gte=start, date__lte=end)

    def in_category(self, category: str):
        return self.filter(category=category)

    def spending(self):
        """Money out (positive amounts)."""
        return self.filter(amount__gt=0)


class Transaction(TimeStampedModel):
    """One money movement. A positive amount is money out (spending), a
    negative one money in (income, refunds), as card statements show it."""

    class Source(models.TextChoices):
        MANUAL = "manual"
        CSV = "csv"
        OCR = "ocr"
        SMS = "sms"
        IMPORT = "import"  # a statement file through the preview/commit flow

    class Kind(models.TextChoices):
        STANDARD = "standard"
        TRANSFER = "transfer"  # a leg of a Transfer: never spending or income
        ADJUSTMENT = "adjustment"  # a reconciliation's correction: never spending or income

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: every user_id lookup is served by the (user, -date) index below.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transactions", db_index=False
    )
    # RESTRICT, not PROTECT: an account with rows cannot be deleted on its own,
    # but deleting its user (whose rows cascade too) still works.
    account = models.ForeignKey("ledger.Account", on_delete=models.RESTRICT, related_name="transactions")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    transfer = models.ForeignKey(
        "ledger.Transfer", null=True, blank=True, on_delete=models.SET_NULL, related_name="legs", db_index=False
    )
    reconciled_at = models.DateTimeField(null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="USD")
    date = models.DateField()
    # The amount in the user's base currency at the ECB rate of `date` (or
    # the closest earlier rate within 7 days, on `rate_date`); null when no
    # rate exists (never a rate of 1). A row already in the base currency is
    # copied (rate_date null). Written by the database trigger, never by Python.
    amount_base = AmountBaseField(max_digits=14, decimal_places=2, null=True, blank=True, editable=False)
    base_currency = BaseCurrencyField(max_length=3, blank=True, default="", editable=False)
    rate_date = RateDateField(null=True, blank=True, editable=False)
    merchant_raw = models.CharField(max_length=255)
    # Normalised merchant text: the key for duplicate detection.
    merchant_normalized = models.CharField(max_length=255, default="", editable=False)
    # No database constraint (nor on source_import): an import COPYs its rows, and a deferred
    # check per row and key was a lookup each at commit. Neither key says where money is (user and
    # account keep theirs); deleting a merchant or an import goes through the ORM, whose SET_NULL
    # still applies (a merchant or import removed in raw SQL may leave a dangling id).
    merchant = models.ForeignKey(
        "merchants.Merchant", null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions",
        db_constraint=False, db_index=False,
    )  # fmt: skip
    category = models.CharField(
        max_length=CATEGORY_MAX_LENGTH, choices=Category.choices, default=Category.UNCATEGORIZED
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.MANUAL)
    notes = models.TextField(blank=True, default="")
    external_id = models.CharField(max_length=128, blank=True, default="")
    # The bank's own label for the row, verbatim (imports), whatever Tally's category is.
    bank_category = models.CharField(max_length=100, blank=True, default="", db_default="")
    source_import = models.ForeignKey(
        "ledger.Import", null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions",
        db_constraint=False, db_index=False,
    )  # fmt: skip
    confidence = models.JSONField(default=dict, blank=True)
    anomaly_score = models.FloatField(null=True, blank=True)
    blockchain_hash = models.CharField(max_length=64, blank=True, default="")
    ipfs_cid = models.CharField(max_length=128, blank=True, default="")
    # Indexed through the (merkle_batch, leaf_index) constraint below.
    merkle_batch = models.ForeignKey(
        "ledger.MerkleBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    leaf_index = models.PositiveIntegerField(null=True, blank=True)
    is_deleted = models.BooleanField(default=False)
    deleted_at = models.DateTimeField(null=True, blank=True)
    objects = TransactionQuerySet.as_manager()

    tags = models.ManyToManyField(
        "ledger.Tag", blank=True, related_name="transactions", through="ledger.TransactionTag"
    )
    # True while the transaction has split lines: budgets and reports then
    # count the lines by their own category instead of this row's.
    is_split = models.BooleanField(default=False, db_default=False, editable=False)
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
            models.Index(fields=["anomaly_score"], name="ledger_tx_anomalous_idx", condition=Q(anomaly_score__gt=0.5)),
            GinIndex(fields=["search_vector"], name="ledger_tx_search_gin"),
            models.Index(
                fields=["user", "external_id"], name="ledger_tx_user_external_idx", condition=~Q(external_id="")
            ),
            # The list's default order (newest first, id as tie-break): first pages, counts and keyset
            # pages read this index, and so does every lookup by user alone (the user's cascade and key
            # checks, the base-currency recompute's keyset). Over every row, is_deleted included so a
            # live count stays index-only: one index where a partial live one and a (user, -date) one
            # each took an entry per written row.
            models.Index(fields=["user", "-date", "-id"], name="ledger_tx_user_date_idx", include=["is_deleted"]),
            # Budget spending: a sum per (user, category) over a date range,
            # answered from the index alone (what the sum reads is included).
            models.Index(
                fields=["user", "category", "date"],
                name="ledger_tx_user_cat_date_idx",
                include=["amount", "kind", "is_split", "amount_base", "base_currency"],
                condition=Q(is_deleted=False),
            ),
            # Reports (spending, cash flow, trends, budget history): a user's live standard rows by
            # date with what they group by and sum, so a year of them is an index-only read whatever
            # the report groups by (category, merchant, account, period, currency left out).
            models.Index(
                fields=["user", "date"],
                name="ledger_tx_user_report_idx",
                include=["category", "amount_base", "base_currency", "currency", "amount"]
                + ["account", "merchant", "is_split", "merchant_raw"],
                condition=Q(is_deleted=False, kind="standard"),
            ),
            # Split parents of a user by date (budgets and reports read their lines): a small index,
            # so the split branch of a report never walks every row of the period.
            models.Index(
                fields=["user", "date"],
                name="ledger_tx_user_split_idx",
                condition=Q(is_split=True, is_deleted=False),
            ),
            # Balances and their series: a sum per account and day, index-only.
            models.Index(
                fields=["account", "date"],
                name="ledger_tx_account_date_idx",
                include=["amount"],
                condition=Q(is_deleted=False),
            ),
            # The foreign keys' own indexes, without the rows that have no key (a merchant-less or
            # manual row then writes no entry): a merge, a delete or a revert asks for one key.
            models.Index(fields=["merchant"], name="ledger_tx_merchant_idx", condition=Q(merchant__isnull=False)),
            models.Index(
                fields=["source_import"], name="ledger_tx_source_import_idx", condition=Q(source_import__isnull=False)
            ),
            # A user's live rows of an amount near a date: transfer matching (the opposite amount,
            # legs left out by the row's transfer_id) and duplicate detection (the same amount and
            # date, then the normalised merchant), which had an index of its own (0031 merged them).
            models.Index(
                fields=["user", "amount", "date"], name="ledger_tx_user_amount_idx", condition=Q(is_deleted=False)
            ),
            # The legs of a transfer, for the foreign key's own checks: deleting (unlinking) a
            # transfer makes PostgreSQL look for rows still pointing at it, a scan of the whole
            # table per transfer without this (an import revert ending 900 transfers: 194 s).
            # Partial: only legs carry a transfer, so inserts of standard rows never touch it.
            models.Index(fields=["transfer"], name="ledger_tx_transfer_idx", condition=Q(transfer__isnull=False)),
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
    # No database constraint (as TransactionTag's): a bulk edit writes one correction per changed
    # row, and a deferred check per correction locked that transaction row again at commit (10,000
    # rows: ~90 ms). Corrections go with their transaction through the ORM's cascade.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="corrections", db_constraint=False
    )
    # Indexed by ledger_correction_user_idx (user, -created_at), which leads with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="category_corrections", db_index=False
    )
    old_category = models.CharField(max_length=CATEGORY_MAX_LENGTH, choices=Category.choices)
    new_category = models.CharField(max_length=CATEGORY_MAX_LENGTH, choices=Category.choices)
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_correction_user_idx")]

    def __str__(self):
        return f"{self.old_category} -> {self.new_category}"


class Tag(TimeStampedModel):
    """A user's label on transactions; names are unique per user whatever their case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(max_length=64)
    color = models.CharField(max_length=7, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(Lower("name"), "user", name="ledger_tag_user_name_ci_uniq")]

    def __str__(self):
        return self.name


class TransactionTag(models.Model):
    """A tag on a transaction: the tags relation's own table (what Django
    would create for it), declared to say how its keys are checked. A bulk
    edit or an import writes thousands of these at once."""

    id = models.BigAutoField(primary_key=True)
    # No database constraint (as merchant and source_import on Transaction): a deferred check per
    # pair locked its transaction row at commit, most of a 10,000-row bulk tag's time. The pairs
    # go with their transaction through the ORM's cascade; a transaction is never removed otherwise.
    # No index of its own: the unique (transaction, tag) below leads with it.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "ledger_transaction_tags"
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "tag"], name="ledger_transaction_tags_transaction_id_tag_id_1f2112ab_uniq"
            )
        ]

    def __str__(self):
        return f"{self.transaction_id} {self.tag_id}"


class SplitLine(models.Model):
    """One part of a split transaction. The lines of a transaction sum
    exactly to its amount; budgets and reports count lines by their own
    category instead of the parent's. Categorisation, not facts: anchoring
    never reads them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="split_lines")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    category = models.CharField(max_length=CATEGORY_MAX_LENGTH, choices=Category.choices)
    notes = models.CharField(max_length=500, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["transaction", "position"]
        constraints = [
            models.UniqueConstraint(fields=["transaction", "position"], name="ledger_splitline_position_uniq"),
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_splitline_amount_nonzero"),
        ]
        indexes = [models.Index(fields=["category"], name="ledger_splitline_category_idx")]

    def __str__(self):
        return f"{self.amount} {self.category}"


class TransactionChange(models.Model):
    """The audit trail: one row per changed field of a transaction (category,
    merchant, tags, notes, splits, kind, account, and edited facts), saying
    who changed it: the user, a rule, an import, an admin or the system."""

    class By(models.TextChoices):
        USER = "user"
        RULE = "rule"
        IMPORT = "import"
        ADMIN = "admin"
        SYSTEM = "system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No database-level key (nor an index of its own: ledger_txchange_tx_at_idx leads with it):
    # audit rows are append-only and written 10,000 at a time by a bulk edit or a rule, and the
    # deferred key check cost a lookup per row at commit. Deleting a transaction through Django
    # still deletes its changes (CASCADE is Django's); a row removed in raw SQL may leave them.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.CASCADE, related_name="changes", db_constraint=False, db_index=False
    )
    field = models.CharField(max_length=32)
    old = models.JSONField(null=True, blank=True)
    new = models.JSONField(null=True, blank=True)
    by = models.CharField(max_length=8, choices=By.choices)
    # Who acted for by=user|admin; the rule for by=rule (kept when the rule is deleted, as a dangling id).
    # No database-level key either (a check per audit row at commit); Django's SET_NULL still applies.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # Indexed by the partial ledger_txchange_rule_idx only (most changes have no rule).
    rule = models.ForeignKey(
        "ledger.Rule",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
        db_constraint=False,
        db_index=False,
    )
    # The import that wrote the change (an Import; an ImportJob for changes of before it): an id, not a key.
    import_ref = models.UUIDField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["transaction", "at"], name="ledger_txchange_tx_at_idx"),
            models.Index(fields=["rule"], name="ledger_txchange_rule_idx", condition=Q(rule__isnull=False)),
        ]

    def __str__(self):
        return f"{self.field}: {self.old!r} -> {self.new!r} ({self.by})"
