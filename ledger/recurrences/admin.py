from django.contrib import admin

from ledger.models import Recurrence


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
