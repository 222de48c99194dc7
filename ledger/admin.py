from django.contrib import admin, messages

from ledger import services
from ledger.models import CategoryCorrection, ImportJob, Recurrence, Transaction


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


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = ("date", "user", "merchant_raw", "amount", "currency", "category", "source", "is_deleted")
    list_filter = ("source", "category", "is_deleted", AnomalousFilter)
    search_fields = ("merchant_raw", "notes", "user__email")
    date_hierarchy = "date"
    list_select_related = ("user",)
    raw_id_fields = ("user", "merchant", "merkle_batch")
    readonly_fields = (
        "merchant_normalized",
        "blockchain_hash",
        "ipfs_cid",
        "merkle_batch",
        "leaf_index",
        "confidence",
        "deleted_at",
        "created_at",
        "updated_at",
    )
    exclude = ("search_vector",)
    actions = ["restore_selected"]
    show_full_result_count = False

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


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "filename", "status", "total", "processed")
    list_filter = ("status",)
    search_fields = ("user__email", "filename")
    raw_id_fields = ("user",)
    exclude = ("content",)
    readonly_fields = ("summary", "error", "finished_at")


@admin.register(Recurrence)
class RecurrenceAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "merchant_name",
        "amount_mean",
        "period_days",
        "next_expected_date",
        "confidence",
        "dismissed",
    )
    list_filter = ("dismissed", "period_days")
    search_fields = ("user__email", "merchant_name", "merchant_key")
    list_select_related = ("user",)
    raw_id_fields = ("user", "merchant")
    readonly_fields = ("last_reminded_for", "created_at", "updated_at")
