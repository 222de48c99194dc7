from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts import services
from accounts.models import Session, User


class TallyUserCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class TallyUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = TallyUserChangeForm
    add_form = TallyUserCreationForm
    ordering = ("email",)
    list_display = ("email", "full_name", "is_verified", "is_staff", "is_active", "created_at")
    list_filter = ("is_verified", "is_staff", "is_active")
    search_fields = ("email", "full_name", "phone")
    readonly_fields = ("created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "phone", "preferences", "wallet_addresses")}),
        ("Status", {"fields": ("is_verified", "is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("user", "ip", "user_agent", "created_at", "last_used_at", "expires_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("user__email", "ip", "user_agent")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "refresh_jti",
        "user_agent",
        "ip",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    actions = ["revoke_sessions"]

    @admin.action(description="Revoke selected sessions")
    def revoke_sessions(self, request, queryset):
        for session in queryset.filter(revoked_at__isnull=True):
            services.session_revoke(session=session)
        self.message_user(request, "Selected sessions revoked.", messages.SUCCESS)

    def has_add_permission(self, request):
        return False
