import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from config.models import TimeStampedModel


class Account(TimeStampedModel):
    """A bank account, card, wallet or loan. Its balance is opening_balance
    minus the sum of its live transactions' amounts (a positive amount is
    money out), so a card or loan owed money has a negative balance."""

    class Kind(models.TextChoices):
        CHECKING = "checking"
        SAVINGS = "savings"
        CREDIT_CARD = "credit_card"
        CASH = "cash"
        LOAN = "loan"
        INVESTMENT = "investment"
        OTHER = "other"

    LIABILITY_KINDS = frozenset({Kind.CREDIT_CARD, Kind.LOAN})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ledger_accounts")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.CHECKING)
    currency = models.CharField(max_length=3)
    institution = models.CharField(max_length=100, blank=True, default="")
    number_mask = models.CharField(max_length=4, blank=True, default="", help_text="Last 4 digits of the number.")
    iban = models.CharField(max_length=34, blank=True, default="")
    opening_balance = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    opening_date = models.DateField(null=True, blank=True)
    on_budget = models.BooleanField(default=True, help_text="Its spending counts toward budgets.")
    include_in_net_worth = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Where new rows in its currency go without an account.")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), "user", name="ledger_account_user_name_ci_uniq"),
            models.UniqueConstraint(
                fields=["user", "currency"], condition=Q(is_default=True), name="ledger_account_one_default_uniq"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["checking", "savings", "credit_card", "cash", "loan", "investment", "other"]),
                name="ledger_account_kind_valid",
            ),
        ]
        indexes = [models.Index(fields=["user", "name"], name="ledger_account_user_idx")]

    def __str__(self):
        return f"{self.name} ({self.currency})"

    @property
    def is_liability(self) -> bool:
        return self.kind in self.LIABILITY_KINDS

    @property
    def classification(self) -> str:
        return "liability" if self.is_liability else "asset"


class Transfer(TimeStampedModel):
    """Money moved between two of the user's accounts: out_leg (positive,
    out of one account) and in_leg (negative, into another). Neither leg is
    spending or income. The legs' categories before linking are kept so an
    unlink gives them back."""

    class CreatedBy(models.TextChoices):
        USER = "user"
        MATCH = "match"
        IMPORT = "import"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transfers")
    out_leg = models.OneToOneField("ledger.Transaction", on_delete=models.CASCADE, related_name="+")
    in_leg = models.OneToOneField("ledger.Transaction", on_delete=models.CASCADE, related_name="+")
    created_by = models.CharField(max_length=8, choices=CreatedBy.choices, default=CreatedBy.USER)
    out_category = models.CharField(max_length=32, blank=True, default="")
    in_category = models.CharField(max_length=32, blank=True, default="")

    class Meta:
        constraints = [models.CheckConstraint(condition=~Q(out_leg=F("in_leg")), name="ledger_transfer_two_legs")]
        indexes = [models.Index(fields=["user", "-created_at"], name="ledger_transfer_user_idx")]

    def __str__(self):
        return f"transfer {self.out_leg_id} -> {self.in_leg_id}"


class TransferSuggestion(TimeStampedModel):
    """A candidate pair matching did not link on its own (ambiguous, or
    amounts that differ across currencies). A rejection is kept, so the
    pair is never suggested or linked again."""

    class Status(models.TextChoices):
        OPEN = "open"
        REJECTED = "rejected"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transfer_suggestions")
    out_leg = models.ForeignKey("ledger.Transaction", on_delete=models.CASCADE, related_name="+")
    in_leg = models.ForeignKey("ledger.Transaction", on_delete=models.CASCADE, related_name="+")
    date_diff = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["out_leg", "in_leg"], name="ledger_transfer_suggestion_pair_uniq"),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="ledger_suggestion_user_idx"),
            models.Index(fields=["in_leg"], name="ledger_suggestion_in_idx"),
        ]

    def __str__(self):
        return f"suggestion {self.out_leg_id} -> {self.in_leg_id} ({self.status})"


class Reconciliation(models.Model):
    """One statement the user reconciled an account to: rows up to `date`
    got reconciled_at = `reconciled_at`; `adjustment` is the row that made
    up a difference. The newest one can be undone."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="reconciliations")
    date = models.DateField()
    statement_balance = models.DecimalField(max_digits=12, decimal_places=2)
    difference = models.DecimalField(max_digits=12, decimal_places=2)
    adjustment = models.ForeignKey(
        "ledger.Transaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reconciled_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["account", "-reconciled_at"], name="ledger_reconciliation_acct_idx")]

    def __str__(self):
        return f"{self.account_id} reconciled to {self.date}"
