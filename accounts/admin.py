import math

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm

from accounts import services, throttling
from accounts.models import Session, User


class ProtectedAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in under the API login's protection: the per-IP
    failure limit (the same Redis counters) and the per-account lockout
    (checked here for a clear message, enforced in accounts.backends).
    Redis down: sign-in is refused."""

    def clean(self):
        unavailable = forms.ValidationError("Sign-in is unavailable right now; try again shortly.", code="unavailable")
        try:
            reservation = throttling.login_attempt_reserve(throttling.client_ip(self.request.META) or "unknown")
        except throttling.ProtectionUnavailable:
            raise unavailable
        if not reservation.allowed:
            raise forms.ValidationError(
                f"Too many failed sign-ins from this address; try again in {_minutes(reservation.retry_after)}.",
                code="throttled",
            )
        failed = False
        try:
            email = self.cleaned_data.get("username")
            if email and (locked_for := throttling.account_lock_remaining(email)):
                raise forms.ValidationError(
                    f"This account is locked after too many failed sign-ins; try again in {_minutes(locked_for)}.",
                    code="locked",
                )
            return super().clean()
        except throttling.ProtectionUnavailable:
            raise unavailable
        except forms.ValidationError as exc:
            failed = getattr(exc, "code", None) == "invalid_login"
            raise
        finally:
            throttling.login_attempt_finish(reservation, failed=failed)


def _minutes(seconds: int) -> str:
    minutes = max(math.ceil(seconds / 60), 1)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


admin.site.login_form = ProtectedAdminAuthenticationForm


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
    # base_currency changes through PATCH auth/me only, which recomputes converted amounts.
    readonly_fields = ("created_at", "updated_at", "last_login", "base_currency")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("full_name", "phone", "preferences", "wallet_addresses", "base_currency")}),
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
