from django.contrib import admin

from realtime.models import Notification
from realtime.webhooks import admin as webhooks_admin  # noqa: F401 (registers the webhook admins)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "user", "created_at", "read_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    ordering = ("-id",)
