import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from config.models import TimeStampedModel


class ImportJob(TimeStampedModel):
    """One run of the first CSV importer (before the statement importer's
    Import), kept as history: who imported what and when, and the id that
    older TransactionChange rows (by import) name. Nothing writes it any
    more; `POST transactions/import` makes Imports, and migration 0021 ended
    the jobs still pending or running when it ran."""

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


class ImportProfile(TimeStampedModel):
    """How to read one bank's export: the column roles, formats and sign
    convention of ``ledger.imports.parsers.Profile``. ``user`` null is a
    built-in profile (synced from the parsers' BUILTIN_PROFILES, read-only)."""

    class Format(models.TextChoices):
        CSV = "csv"
        OFX = "ofx"
        QIF = "qif"
        CAMT053 = "camt053", "CAMT.053"
        MT940 = "mt940", "MT940"
        XLSX = "xlsx", "XLSX"

    class Sign(models.TextChoices):
        POSITIVE_IS_OUT = "positive_is_out", "Positive is money out"
        NEGATIVE_IS_OUT = "negative_is_out", "Negative is money out"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="import_profiles"
    )
    key = models.SlugField(max_length=64, blank=True, default="", help_text="Built-in profiles: their stable key.")
    name = models.CharField(max_length=100)
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.CSV)
    header_signature = models.JSONField(default=list, blank=True)
    delimiter = models.CharField(max_length=1, blank=True, default="")
    encoding = models.CharField(max_length=32, blank=True, default="")
    skip_rows = models.PositiveSmallIntegerField(default=0)
    date_format = models.CharField(max_length=32, blank=True, default="")
    decimal_separator = models.CharField(max_length=1, blank=True, default=".")
    thousands_separator = models.CharField(max_length=1, blank=True, default="")
    columns = models.JSONField(default=dict, blank=True)
    sign = models.CharField(max_length=16, choices=Sign.choices, default=Sign.NEGATIVE_IS_OUT)
    direction_column = models.CharField(max_length=100, blank=True, default="")
    direction_out_values = models.JSONField(default=list, blank=True)
    direction_in_values = models.JSONField(default=list, blank=True)
    row_filters = models.JSONField(default=list, blank=True)
    category_map = models.JSONField(default=dict, blank=True)
    currency = models.CharField(max_length=3, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "user", name="ledger_importprofile_user_name_uniq"),
            models.UniqueConstraint(
                Lower("name"), name="ledger_importprofile_builtin_name_uniq", condition=Q(user__isnull=True)
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_builtin(self) -> bool:
        return self.user_id is None


class Import(TimeStampedModel):
    """One uploaded statement: parsed into a preview (ImportRow per row),
    committed into an account, or reverted. The file itself is kept in
    storage, not in a column."""

    class Status(models.TextChoices):
        PREVIEW = "preview"
        RUNNING = "running"
        COMMITTED = "committed"
        REVERTED = "reverted"
        FAILED = "failed"
        EXPIRED = "expired"  # a preview not committed within its day (the sweep)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imports")
    account = models.ForeignKey("ledger.Account", on_delete=models.PROTECT, related_name="imports")
    profile = models.ForeignKey(ImportProfile, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The profile as applied (with the request's overrides): what a saved
    # profile or a re-read needs, even after the profile row changes.
    profile_used = models.JSONField(default=dict, blank=True)
    detected_by = models.CharField(max_length=16, blank=True, default="")
    filename = models.CharField(max_length=255, blank=True, default="")
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    sha256 = models.CharField(max_length=64)
    format = models.CharField(max_length=8, choices=ImportProfile.Format.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEW)
    total = models.PositiveIntegerField(default=0)
    new_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    filtered_count = models.PositiveIntegerField(default=0)
    transfers_matched = models.PositiveIntegerField(default=0)
    imported_count = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    statement = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")
    force_rows = models.JSONField(default=list, blank=True)
    skip_rows = models.JSONField(default=list, blank=True)
    expires_at = models.DateTimeField()
    # The user's ledger version (ledger_count_version, moved by every write to their rows) the fates
    # were last decided against: a commit whose ledger has not moved since keeps them as they are.
    classified_version = models.BigIntegerField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_import_user_idx")]

    def __str__(self):
        return f"{self.filename or self.id} ({self.status})"


class ImportRow(models.Model):
    """One row of an import's preview and its fate. The duplicate-detection
    keys are columns so fates are decided in SQL against the account."""

    class Fate(models.TextChoices):
        NEW = "new"
        DUPLICATE = "duplicate"
        ERROR = "error"
        TRANSFER = "transfer"

    id = models.BigAutoField(primary_key=True)
    # No index of its own: ledger_importrow_row_idx (source_import, row_number) serves every lookup.
    # No database constraint either: a preview COPYs every row of the file, and
    # a deferred check per row was a fifth of the preview's time. An import's
    # rows go with it through the ORM's cascade (expiry, revert never deletes).
    source_import = models.ForeignKey(
        Import, on_delete=models.CASCADE, related_name="rows", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField()
    fate = models.CharField(max_length=16, choices=Fate.choices)
    date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    merchant_normalized = models.CharField(max_length=255, blank=True, default="")
    external_id = models.CharField(max_length=128, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True, default="")
    cell = models.CharField(max_length=100, blank=True, default="", help_text="The column a row error is about.")
    duplicate_of = models.UUIDField(null=True, blank=True)
    # The row this one becomes: a new row holds the id from the preview on
    # (the commit writes the transaction with it), so it is the transaction
    # only once that row exists. No database constraint (it names a row not
    # written yet). Deletes go through the ORM, whose collector still sets it
    # NULL. No index: every read of it is by import (the indexes below), and
    # a transaction is only ever removed with its user (whose imports go too),
    # when the collector's one UPDATE by these ids scans the table.
    transaction = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_constraint=False, db_index=False,
    )  # fmt: skip

    class Meta:
        indexes = [
            models.Index(fields=["source_import", "row_number"], name="ledger_importrow_row_idx"),
            models.Index(fields=["source_import", "fate", "row_number"], name="ledger_importrow_fate_idx"),
        ]

    def __str__(self):
        return f"row {self.row_number}: {self.fate}"
