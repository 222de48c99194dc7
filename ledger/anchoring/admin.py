from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.admin import ReadOnlyAdminMixin
from config.errors import DomainError
from ledger.anchoring import services as anchoring
from ledger.models import MerkleBatch


@admin.register(MerkleBatch)
class MerkleBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("batch_date", "transaction_count", "root_hash", "anchor_backend", "verified_at", "verification_ok")
    list_filter = ("anchor_backend", "verification_ok")
    date_hierarchy = "batch_date"
    exclude = ("chunk_roots",)
    readonly_fields = [field.name for field in MerkleBatch._meta.fields if field.name != "chunk_roots"]
    actions = ["verify_selected"]
    change_list_template = "admin/ledger/merklebatch/change_list.html"

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

    # Anchor now: a confirmation page first (anchored rows are frozen for good),
    # then yesterday's batch, cut off at midnight UTC (today's rows wait for tonight).

    def get_urls(self):
        anchor = path("anchor/", self.admin_site.admin_view(self.anchor_view), name="ledger_merklebatch_anchor")
        return [anchor, *super().get_urls()]

    def anchor_view(self, request):
        if not request.user.is_superuser:
            raise PermissionDenied
        preview = anchoring.anchor_preview()
        changelist = reverse("admin:ledger_merklebatch_changelist")
        if request.method == "POST" and request.POST.get("confirm") == preview["batch_date"].isoformat():
            try:
                result = anchoring.ledger_anchor(batch_date=preview["batch_date"])
            except DomainError as exc:
                self.message_user(request, f"Nothing anchored: {exc.detail}", messages.ERROR)
            else:
                verb = "Anchored" if result.created else "Already anchored:"
                self.message_user(
                    request,
                    f"{verb} {result.transaction_count} row(s) into the {result.batch_date} batch.",
                    messages.SUCCESS,
                )
            return redirect(changelist)
        context = {
            **self.admin_site.each_context(request),
            "title": "Anchor the ledger now",
            "opts": self.model._meta,
            "preview": preview,
            "changelist_url": changelist,
        }
        return TemplateResponse(request, "admin/ledger/merklebatch/anchor.html", context)
