from django import forms
from django.contrib import admin, messages
from rest_framework.exceptions import ValidationError

from config.exceptions import DomainError
from ledger import anchoring, portfolio, services
from ledger.models import CategoryCorrection, ImportJob, MerkleBatch, PortfolioHolding, Recurrence, Transaction


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

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is not None and obj.merkle_batch_id:
            # Anchored facts are final here as in the API (ledger/anchoring.py).
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
                                transaction=current, changes={name: data[name] for name in self.changed_data}
                            )
                        except DomainError as exc:
                            raise forms.ValidationError(str(exc.detail)) from exc
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


@admin.register(MerkleBatch)
class MerkleBatchAdmin(admin.ModelAdmin):
    list_display = ("batch_date", "transaction_count", "root_hash", "anchor_backend", "verified_at", "verification_ok")
    list_filter = ("anchor_backend", "verification_ok")
    date_hierarchy = "batch_date"
    exclude = ("chunk_roots",)
    readonly_fields = [field.name for field in MerkleBatch._meta.fields if field.name != "chunk_roots"]
    actions = ["verify_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Verify selected batches against the database now")
    def verify_selected(self, request, queryset):
        for batch in queryset.order_by("batch_date"):
            (report,) = anchoring.ledger_verify(batch_date=batch.batch_date, notify=True)
            level = messages.SUCCESS if report.ok else messages.ERROR
            self.message_user(
                request,
                f"{report.batch_date}: {'ok' if report.ok else f'{report.problem_count} problem(s)'}; "
                f"root {'matches' if report.root_matches else 'differs'}; "
                f"anchor {'verifies' if report.anchor_ok else 'fails'}.",
                level,
            )


class PortfolioHoldingAdminForm(forms.ModelForm):
    """The service's identifier and currency rules, as form errors."""

    class Meta:
        model = PortfolioHolding
        fields = ("user", "asset_type", "identifier", "name", "currency", "units", "cost_basis")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        user = data.get("user") or self.instance.user
        try:
            data["identifier"] = portfolio.identifier_normalize(
                asset_type=data["asset_type"], identifier=data["identifier"]
            )
            data["currency"] = portfolio.currency_normalize(data["currency"])
        except ValidationError as exc:
            raise forms.ValidationError({field: [str(m) for m in messages] for field, messages in exc.detail.items()})
        existing = portfolio.holding_find_duplicate(
            user=user, asset_type=data["asset_type"], identifier=data["identifier"], exclude_id=self.instance.pk
        )
        if existing:
            raise forms.ValidationError({"identifier": f"This user already holds it (holding {existing})."})
        if self.instance.pk and self.instance.last_price is not None and "units" in self.changed_data:
            # The service re-applies the last price to new units: check it fits here, as a form error.
            try:
                portfolio.valuation_of(units=data["units"], price=self.instance.last_price, field="units")
            except ValidationError as exc:
                raise forms.ValidationError({f: [str(m) for m in msgs] for f, msgs in exc.detail.items()}) from exc
        return data


@admin.register(PortfolioHolding)
class PortfolioHoldingAdmin(admin.ModelAdmin):
    form = PortfolioHoldingAdminForm
    list_display = (
        "user",
        "asset_type",
        "identifier",
        "name",
        "units",
        "currency",
        "cost_basis",
        "last_price",
        "last_valuation",
        "valued_at",
        "price_source",
    )
    list_filter = ("asset_type", "currency", "price_source")
    search_fields = ("identifier", "name", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("last_price", "last_valuation", "valued_at", "price_source", "created_at", "updated_at")
    actions = ["refresh_valuations"]

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "user") if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        # Through the services, so admin edits follow the API's rules (and re-apply the last price).
        fields = ("asset_type", "identifier", "name", "currency", "units", "cost_basis")
        if change:
            changes = {name: form.cleaned_data[name] for name in form.changed_data if name in fields}
            saved = portfolio.holding_update(holding=obj, **changes)
        else:
            saved = portfolio.holding_create(user=obj.user, **{name: form.cleaned_data[name] for name in fields})
        obj.__dict__.update(saved.__dict__)  # the change log and the redirect read obj

    @admin.action(description="Refresh valuations of selected holdings from the price source")
    def refresh_valuations(self, request, queryset):
        summary = portfolio.holdings_refresh_prices(holding_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(
            request,
            "Source {source}: {quoted} of {instruments} instrument(s) quoted, {updated} holding(s) revalued, "
            "{unchanged} unchanged, {skipped} skipped.".format(**summary),
            messages.SUCCESS,
        )
