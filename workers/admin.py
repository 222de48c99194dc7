from django.contrib import admin, messages

from workers import services
from workers.models import DeadLetter


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ("task_name", "failed_at", "exception_short", "requeued_at", "requeue_count")
    list_filter = ("task_name", ("requeued_at", admin.EmptyFieldListFilter))
    search_fields = ("task_name", "task_id", "exception")
    date_hierarchy = "failed_at"
    readonly_fields = [f.name for f in DeadLetter._meta.fields]
    actions = ["requeue"]

    @admin.display(description="exception")
    def exception_short(self, obj):
        return obj.exception[:120]

    @admin.action(description="Requeue selected tasks")
    def requeue(self, request, queryset):
        for dead_letter in queryset:
            services.dead_letter_requeue(dead_letter=dead_letter)
        self.message_user(request, f"Requeued {queryset.count()} task(s).", messages.SUCCESS)

    def has_add_permission(self, request):
        return False
