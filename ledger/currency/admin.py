from django.contrib import admin

from config.admin import ServiceModelAdmin, ServiceModelForm
from ledger.currency import services
from ledger.models import ExchangeRate


class ExchangeRateForm(ServiceModelForm):
    """Saved by ledger.currency.services.rate_save: a rate of zero, a negative
    one or one above 10^6 per euro is refused; the transactions it can
    convert are recomputed."""

    class Meta:
        model = ExchangeRate
        fields = ("currency", "date", "rate", "source")

    def run_service(self):
        return services.rate_save(rate=self.instance)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ServiceModelAdmin):
    form = ExchangeRateForm
    list_display = ("date", "currency", "rate", "source", "updated_at")
    list_filter = ("source", "currency")
    search_fields = ("currency",)
    date_hierarchy = "date"
    ordering = ("-date", "currency")

    def delete_object(self, obj):
        services.rate_delete(rate=obj)
