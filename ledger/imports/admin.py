from django.contrib import admin

from ledger.models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "filename", "status", "total", "processed")
    list_filter = ("status",)
    search_fields = ("user__email", "filename")
    raw_id_fields = ("user",)
    exclude = ("content",)
    readonly_fields = ("summary", "error", "finished_at")
