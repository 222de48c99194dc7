from django.contrib import admin

from ledger.attachments import services
from ledger.models import Attachment


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "content_type", "size", "user", "transaction", "created_at")
    list_filter = ("content_type",)
    search_fields = ("filename", "sha256", "cid", "user__email")
    raw_id_fields = ("transaction", "user")
    readonly_fields = ("file", "filename", "content_type", "size", "sha256", "cid", "created_at")

    def has_add_permission(self, request):
        return False  # uploads go through the API, which sniffs and hashes them

    def delete_model(self, request, obj):
        services.attachment_delete(attachment=obj)

    def delete_queryset(self, request, queryset):
        for attachment in queryset:
            services.attachment_delete(attachment=attachment)
