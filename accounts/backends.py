from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from accounts import services, throttling


class AccountLocked(PermissionDenied):
    """Django's authenticate() stops at a PermissionDenied: no other backend
    is asked, and the password is never checked."""


class EmailBackend(ModelBackend):
    """Logs in by e-mail, whatever case the user types it in, under the
    per-account lockout (accounts.throttling): the API login and the admin
    login alike, since both go through authenticate()."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = kwargs.get("email", username)
        if email is None:
            return None
        email = email.strip().lower()
        try:
            locked = throttling.account_lock_remaining(email)
        except throttling.ProtectionUnavailable:
            raise AccountLocked("Sign-in is unavailable right now.")  # fail closed
        if locked:
            raise AccountLocked("This account is locked for a while after too many failed sign-ins.")
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            if throttling.account_failure_record(email):
                services.account_locked_notify(email=email)
        else:
            throttling.account_failures_clear(email)
        return user
