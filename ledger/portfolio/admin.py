from django.contrib import admin, messages

from config.admin import ServiceModelAdmin, ServiceModelForm
from ledger.models import PortfolioHolding
from ledger.portfolio import services as portfolio

HOLDING_FIELDS = ("asset_type", "identifier", "name", "currency", "units", "cost_basis")


class PortfolioHoldingAdminForm(ServiceModelForm):
    """Saved by holding_create / holding_update, as the API saves: identifier
    and currency rules, duplicates refused, the last price re-applied to new
    units (an overflow is a form error), portfolio_update sent."""

    class Meta:
        model = PortfolioHolding
        fields = ("user", *HOLDING_FIELDS)

    def run_service(self):
        data = self.cleaned_data
        if self.instance._state.adding:
            return portfolio.holding_create(user=data["user"], **{name: data[name] for name in HOLDING_FIELDS})
        changes = {name: data[name] for name in self.changed_data if name in HOLDING_FIELDS}
        return portfolio.holding_update(holding=self.instance, **changes)


@admin.register(PortfolioHolding)
class PortfolioHoldingAdmin(ServiceModelAdmin):
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

    def delete_object(self, obj):
        portfolio.holding_delete(holding=obj)

    @admin.action(description="Refresh valuations of selected holdings from the price source")
    def refresh_valuations(self, request, queryset):
        summary = portfolio.holdings_refresh_prices(holding_ids=list(queryset.values_list("id", flat=True)))
        self.message_user(
            request,
            "Source {source}: {quoted} of {instruments} instrument(s) quoted, {updated} holding(s) revalued, "
            "{unchanged} unchanged, {skipped} skipped.".format(**summary),
            messages.SUCCESS,
        )
