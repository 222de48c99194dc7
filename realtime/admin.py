from django.contrib import admin

from realtime.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "user", "created_at", "read_at")
    list_filter = ("type",)
    search_fields = ("user__email",)
    raw_id_fields = ("user",)
    ordering = ("-id",)
