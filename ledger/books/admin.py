from django.contrib import admin, messages
from django.db.models import OuterRef

from config.admin import ReadOnlyAdminMixin
from config.exceptions import DomainError
from ledger.books import selectors, services
from ledger.models import Account, Reconciliation, Transfer, TransferSuggestion


class ClosedFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "closed"

    def lookups(self, request, model_admin):
        return (("no", "Open"), ("yes", "Closed"))

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(closed_at__isnull=self.value() == "no")
        return queryset


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "kind", "currency", "balance", "is_default", "on_budget", "closed_at")
    list_filter = ("kind", "currency", ClosedFilter, "on_budget", "include_in_net_worth")
    search_fields = ("name", "institution", "user__email")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    readonly_fields = ("balance", "closed_at", "created_at", "updated_at")
    actions = ["close_selected"]

    def get_queryset(self, request):
        # The balance comes with the page: one correlated sum per row, not a query per row.
        return super().get_queryset(request).annotate(flow=selectors._live_sum(account_id=OuterRef("pk")))

    @admin.display(description="balance")
    def balance(self, obj):
        return f"{selectors.balance_of(obj):.2f}"

    def save_model(self, request, obj, form, change):
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE_FIELDS}
        try:
            if change:
                services.account_update(account=obj, **fields)
            else:
                saved = services.account_create(user=form.cleaned_data["user"], **fields)
                obj.pk = saved.pk
        except DomainError as exc:
            self.message_user(request, str(exc.detail), messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        # Rows are protected; closing goes through the action (the service's rules).
        return obj is not None and selectors.account_is_empty(obj)

    @admin.action(description="Close selected accounts (force)")
    def close_selected(self, request, queryset):
        for account in queryset:
            services.account_delete(account=account, force=True)
        self.message_user(request, "Closed or deleted the selected accounts.", messages.SUCCESS)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "user", "out_leg", "in_leg", "created_by")
    list_filter = ("created_by",)
    search_fields = ("user__email",)
    raw_id_fields = ("user", "out_leg", "in_leg")
    list_select_related = ("user", "out_leg", "in_leg")
    actions = ["unlink_selected"]

    @admin.action(description="Unlink selected transfers (legs stay)")
    def unlink_selected(self, request, queryset):
        for transfer in queryset.select_related("user"):
            services.transfer_delete(transfer=transfer, user=transfer.user)
        self.message_user(request, "Unlinked.", messages.SUCCESS)


@admin.register(TransferSuggestion)
class TransferSuggestionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "out_leg", "in_leg", "date_diff", "status")
    list_filter = ("status",)
    raw_id_fields = ("user", "out_leg", "in_leg")


@admin.register(Reconciliation)
class ReconciliationAdmin(admin.ModelAdmin):
    list_display = ("reconciled_at", "account", "date", "statement_balance", "difference")
    raw_id_fields = ("account", "adjustment")

    def has_change_permission(self, request, obj=None):
        return False
