from django.contrib import admin, messages

from config.admin import ServiceModelAdmin, ServiceModelForm
from ledger.anchoring import services as anchoring
from ledger.models import CategoryCorrection, Tag, Transaction, TransactionChange
from ledger.transactions import services
from ledger.transactions.audit import By


class AnomalousFilter(admin.SimpleListFilter):
    title = "anomalous"
    parameter_name = "anomalous"

    def lookups(self, request, model_admin):
        return (("yes", "Score above 0.5"), ("no", "Not anomalous"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(anomaly_score__gt=0.5)
        if self.value() == "no":
            return queryset.exclude(anomaly_score__gt=0.5)
        return queryset


# What the API lets a transaction be created with, and then edited.
ADD_FIELDS = (
    "user",
    "account",
    "amount",
    "currency",
    "date",
    "merchant_raw",
    "category",
    "notes",
    "source",
    "external_id",
)
EDIT_FIELDS = ("amount", "date", "merchant_raw", "category", "notes")


class TransactionAdminForm(ServiceModelForm):
    """Saved by the ledger's services, as the API saves: merchant matched and
    merchant_normalized set, a category change recorded as a correction,
    transactions_changed sent after commit (budget alerts, anomaly score),
    anchored facts refused, a likely duplicate refused (409 in the API)."""

    class Meta:
        model = Transaction
        fields = ADD_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            # Left blank, as in the API: the default account and its currency, the category suggested.
            for name in ("account", "currency", "category"):
                if name in self.fields:
                    self.fields[name].required = False
                    self.fields[name].initial = None

    def run_service(self):
        data = self.cleaned_data
        if self.instance._state.adding:
            fields = {name: data[name] for name in ADD_FIELDS if name != "user"}
            for name in ("account", "currency", "category"):
                fields[name] = fields[name] or None
            return services.transaction_create(user=data["user"], **fields)
        changes = {name: data[name] for name in self.changed_data if name in EDIT_FIELDS}
        current = Transaction.objects.select_related("user").get(pk=self.instance.pk)
        if not changes:
            return current
        return services.transaction_update(
            transaction=current, user=current.user, reason="admin", by=By.ADMIN, **changes
        )


class TransactionChangeInline(admin.TabularInline):
    """The audit trail, read-only: it is written by services, never edited."""

    model = TransactionChange
    fields = ("at", "field", "old", "new", "by", "actor", "rule", "import_ref", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("at", "field")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Transaction)
class TransactionAdmin(ServiceModelAdmin):
    form = TransactionAdminForm
    list_display = (
        "date",
        "user",
        "account",
        "merchant_raw",
        "amount",
        "currency",
        "category",
        "kind",
        "source",
        "is_deleted",
    )
    list_filter = (
        "kind",
        "source",
        "category",
        "is_deleted",
        AnomalousFilter,
        ("account", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("merchant_raw", "notes", "user__email")
    date_hierarchy = "date"
    list_select_related = ("user", "account")
    raw_id_fields = ("user", "account")
    readonly_fields = (
        "kind",
        "transfer",
        "reconciled_at",
        "merchant",
        "merchant_normalized",
        "confidence",
        "anomaly_score",
        "blockchain_hash",
        "ipfs_cid",
        "merkle_batch",
        "leaf_index",
        "is_deleted",
        "deleted_at",
        "created_at",
        "updated_at",
    )
    inlines = [TransactionChangeInline]
    actions = ["restore_selected"]
    show_full_result_count = False

    def get_fields(self, request, obj=None):
        return [*ADD_FIELDS, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return self.readonly_fields
        fixed = [name for name in ADD_FIELDS if name not in EDIT_FIELDS]
        if obj.merkle_batch_id:
            # Anchored facts are final here as in the API (the service refuses them too).
            fixed += [name for name in anchoring.ANCHORED_FIELDS if name not in fixed]
        return (*fixed, *self.readonly_fields)

    def delete_object(self, obj):
        # As the API's DELETE: a soft delete, restorable with the action below.
        services.transaction_delete(transaction=obj, user=obj.user)

    @admin.action(description="Restore selected deleted transactions")
    def restore_selected(self, request, queryset):
        restored = 0
        for tx in queryset.filter(is_deleted=True).select_related("user"):
            services.transaction_restore(transaction=tx, user=tx.user)
            restored += 1
        self.message_user(request, f"Restored {restored} transaction(s).", messages.SUCCESS)


@admin.register(CategoryCorrection)
class CategoryCorrectionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "old_category", "new_category", "reason")
    list_filter = ("new_category",)
    search_fields = ("user__email", "reason")
    raw_id_fields = ("transaction", "user")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "color", "created_at")
    search_fields = ("name", "user__email")
    raw_id_fields = ("user",)
