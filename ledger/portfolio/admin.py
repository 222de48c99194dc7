from django import forms
from django.contrib import admin, messages

from config.admin import form_error
from config.errors import DomainError
from ledger.models import PortfolioHolding
from ledger.portfolio import services as portfolio


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
        except DomainError as exc:
            raise form_error(exc, self) from exc
        existing = portfolio.holding_find_duplicate(
            user=user, asset_type=data["asset_type"], identifier=data["identifier"], exclude_id=self.instance.pk
        )
        if existing:
            raise forms.ValidationError({"identifier": f"This user already holds it (holding {existing})."})
        if self.instance.pk and self.instance.last_price is not None and "units" in self.changed_data:
            # The service re-applies the last price to new units: check it fits here, as a form error.
            try:
                portfolio.valuation_of(units=data["units"], price=self.instance.last_price, field="units")
            except DomainError as exc:
                raise form_error(exc, self) from exc
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
