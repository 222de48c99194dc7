from django.contrib import admin, messages

from ledger.anchoring import services as anchoring
from ledger.models import MerkleBatch


@admin.register(MerkleBatch)
class MerkleBatchAdmin(admin.ModelAdmin):
    list_display = ("batch_date", "transaction_count", "root_hash", "anchor_backend", "verified_at", "verification_ok")
    list_filter = ("anchor_backend", "verification_ok")
    date_hierarchy = "batch_date"
    exclude = ("chunk_roots",)
    readonly_fields = [field.name for field in MerkleBatch._meta.fields if field.name != "chunk_roots"]
    actions = ["verify_selected"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Verify selected batches against the database now")
    def verify_selected(self, request, queryset):
        for batch in queryset.order_by("batch_date"):
            (report,) = anchoring.ledger_verify(batch_date=batch.batch_date, notify=True)
            level = messages.SUCCESS if report.ok else messages.ERROR
            self.message_user(
                request,
                f"{report.batch_date}: {'ok' if report.ok else f'{report.problem_count} problem(s)'}; "
                f"root {'matches' if report.root_matches else 'differs'}; "
                f"anchor {'verifies' if report.anchor_ok else 'fails'}.",
                level,
            )
