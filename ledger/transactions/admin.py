from django.contrib import admin, messages

from config.admin import form_error
from config.exceptions import DomainError
from ledger.anchoring import services as anchoring
from ledger.models import CategoryCorrection, Transaction
from ledger.transactions import services


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
    raw_id_fields = ("user", "account", "merchant", "merkle_batch")
    readonly_fields = (
        "kind",
        "transfer",
        "reconciled_at",
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

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.merkle_batch_id:
            # Anchored facts are final here as in the API (ledger/anchoring/services.py).
            fields = (*fields, "user", *anchoring.ANCHORED_FIELDS)
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class AnchoredFactsForm(form):
            def clean(self):
                data = super().clean()
                if self.instance.pk:
                    # Read again: the row may have been anchored since the form was shown.
                    current = Transaction.objects.filter(pk=self.instance.pk).first()
                    if current is not None:
                        try:
                            anchoring.reject_anchored_changes(
                                transaction=current,
                                changes={name: data[name] for name in self.changed_data if name in data},
                            )
                        except DomainError as exc:
                            raise form_error(exc, self) from exc
                return data

        return AnchoredFactsForm

    def save_model(self, request, obj, form, change):
        if change:
            # Only what the form changed: never the anchoring columns nightly runs write.
            obj.save(update_fields=[*form.changed_data, "updated_at"])
        else:
            super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        # A deleted anchored row shows up as missing in every verification; soft
        # delete instead. Bulk deletes of a selection holding one are refused too.
        if obj is not None and obj.merkle_batch_id:
            return False
        return super().has_delete_permission(request, obj)

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
