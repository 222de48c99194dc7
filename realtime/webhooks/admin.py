from django.contrib import admin, messages

from config.errors import DomainError
from realtime.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from realtime.webhooks import services


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "user", "enabled", "consecutive_failures", "disabled_at", "created_at")
    list_filter = ("enabled",)
    search_fields = ("url", "user__email")
    raw_id_fields = ("user",)
    exclude = ("secret", "previous_secret")
    readonly_fields = ("consecutive_failures", "failing_since", "disabled_at", "previous_secret_expires_at")


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "succeeded", "response_code", "duration_ms", "response_body", "error", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("event_type", "endpoint", "status", "attempt", "response_code", "next_attempt_at", "created_at")
    list_filter = ("status", "event_type", "is_test")
    search_fields = ("endpoint__url", "endpoint__user__email")
    raw_id_fields = ("endpoint",)
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Redeliver the selected deliveries")
    def redeliver(self, request, queryset):
        done = 0
        for delivery in queryset:
            try:
                services.delivery_redeliver(delivery=delivery)
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{delivery}: {exc.detail}", messages.WARNING)
        self.message_user(request, f"{done} deliveries queued again.", messages.SUCCESS)
