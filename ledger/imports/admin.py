from django.contrib import admin, messages

from config.admin import ReadOnlyAdminMixin
from config.exceptions import DomainError
from ledger.imports import commits, profiles
from ledger.models import Import, ImportJob, ImportProfile, ImportRow


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Jobs of the first CSV importer, kept as history: nothing writes them any more."""

    list_display = ("created_at", "user", "filename", "status", "total", "processed")
    list_filter = ("status",)
    search_fields = ("user__email", "filename")
    exclude = ("content",)
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "content"]


@admin.register(ImportProfile)
class ImportProfileAdmin(admin.ModelAdmin):
    list_display = ("name", "key", "user", "format", "sign", "updated_at")
    list_filter = ("format", "sign", ("user", admin.EmptyFieldListFilter))
    search_fields = ("name", "key", "user__email")
    raw_id_fields = ("user",)
    actions = ["copy_selected"]

    def has_change_permission(self, request, obj=None):
        # Built-in profiles are synced from code: copy one to change it.
        return super().has_change_permission(request, obj) and not (obj is not None and obj.is_builtin)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.is_builtin)

    @admin.action(description="Copy selected profiles (as profiles of the signed-in staff user)")
    def copy_selected(self, request, queryset):
        copied = 0
        for profile in queryset:
            fields = {field: getattr(profile, field) for field in profiles.PROFILE_FIELDS}
            try:
                profiles.import_profile_create(user=request.user, name=f"{profile.name} (copy)", **fields)
                copied += 1
            except DomainError as exc:
                self.message_user(request, f"{profile.name}: {exc}", messages.ERROR)
        self.message_user(request, f"Copied {copied} profile(s).", messages.SUCCESS)


class ImportRowInline(admin.TabularInline):
    model = ImportRow
    fields = ("row_number", "fate", "date", "amount", "message", "duplicate_of", "transaction")
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0
    ordering = ("row_number",)
    show_change_link = False


@admin.register(Import)
class ImportAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "account", "filename", "format", "status", "total", "new_count",
                    "duplicate_count", "error_count", "imported_count")  # fmt: skip
    list_filter = ("status", "format")
    search_fields = ("user__email", "filename", "sha256")
    list_select_related = ("user", "account")
    raw_id_fields = ("user", "account", "profile")
    readonly_fields = [f.name for f in Import._meta.fields]
    inlines = [ImportRowInline]
    actions = ["revert_selected"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Revert selected committed imports (soft-deletes their transactions)")
    def revert_selected(self, request, queryset):
        for source in queryset.select_related("user"):
            try:
                commits.import_revert(user=source.user, import_id=source.id)
                self.message_user(request, f"Reverted {source}.", messages.SUCCESS)
            except DomainError as exc:
                self.message_user(request, f"{source}: {exc}", messages.ERROR)
