from django.contrib import admin, messages

from budgets import services
from budgets.models import Budget, BudgetPeriod
from budgets.selectors import STATUSES, budget_annotate_spending
from config.admin import ServiceModelAdmin, ServiceModelForm
from config.exceptions import Conflict

EDIT_FIELDS = ("category", "amount", "start_date", "end_date", "auto_renew")


class BudgetAdminForm(ServiceModelForm):
    """Saved by budget_create / budget_update, as the API saves: alert levels
    restarted for a new category, re-checked when the amount or dates move,
    the cached status dropped."""

    class Meta:
        model = Budget
        fields = ("user", *EDIT_FIELDS)

    def run_service(self):
        data = self.cleaned_data
        if self.instance._state.adding:
            return services.budget_create(user=data["user"], **{name: data[name] for name in EDIT_FIELDS})
        changes = {name: data[name] for name in self.changed_data if name in EDIT_FIELDS}
        return services.budget_update(budget=Budget.objects.get(pk=self.instance.pk), data=changes)


class BudgetStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(s, s.replace("_", " ")) for s in STATUSES]

    def queryset(self, request, queryset):
        if self.value() in STATUSES:
            return queryset.filter(status=self.value())
        return queryset


@admin.register(Budget)
class BudgetAdmin(ServiceModelAdmin):
    form = BudgetAdminForm
    list_display = (
        "user",
        "category",
        "amount",
        "spent",
        "percentage",
        "status",
        "start_date",
        "end_date",
        "auto_renew",
    )
    list_filter = (BudgetStatusFilter, "category", "auto_renew")
    search_fields = ("user__email", "category")
    list_select_related = ("user",)
    readonly_fields = ("alert_period_start", "alert_level", "alert_max_level", "created_at", "updated_at")
    raw_id_fields = ("user",)
    actions = ["renew_budgets"]

    def get_readonly_fields(self, request, obj=None):
        return (*self.readonly_fields, "user") if obj else self.readonly_fields

    def delete_object(self, obj):
        services.budget_delete(budget=obj)

    def get_queryset(self, request):
        # spent/percentage/status come from the same single statement as the API.
        return budget_annotate_spending(super().get_queryset(request))

    @admin.display(ordering="spent")
    def spent(self, obj):
        return obj.spent

    @admin.display(ordering="percentage", description="%")
    def percentage(self, obj):
        return obj.percentage

    @admin.display(ordering="status")
    def status(self, obj):
        return obj.status

    @admin.action(description="Renew selected budgets (catching up missed periods)")
    def renew_budgets(self, request, queryset):
        renewed = 0
        for budget in queryset:
            try:
                services.budget_renew(budget=budget, catch_up=True)
                renewed += 1
            except Conflict as exc:
                self.message_user(request, f"{budget}: {exc}", messages.WARNING)
        self.message_user(request, f"Renewed {renewed} budget(s).")


@admin.register(BudgetPeriod)
class BudgetPeriodAdmin(admin.ModelAdmin):
    list_display = ("budget", "category", "start_date", "end_date", "amount", "spent")
    list_filter = ("category",)
    search_fields = ("budget__user__email", "category")
    list_select_related = ("budget__user",)
    readonly_fields = ("budget", "category", "start_date", "end_date", "amount", "spent", "created_at")
