from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Like the password-reset token, but bound to the address being verified
    and dead once the user is verified."""

    key_salt = "accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email}{user.is_verified}{timestamp}"


password_reset_token = PasswordResetTokenGenerator()
email_verification_token = EmailVerificationTokenGenerator()


def encode_uid(user) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def decode_uid(uid: str) -> str | None:
    try:
        return force_str(urlsafe_base64_decode(uid))
    except (ValueError, TypeError):
        return None


class EmailChangeTokenGenerator(PasswordResetTokenGenerator):
    """Confirms a pending e-mail address: bound to the current and the pending
    address, so it dies once the change is made or another change is asked."""

    key_salt = "accounts.tokens.EmailChangeTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.email}{user.pending_email}{timestamp}"


email_change_token = EmailChangeTokenGenerator()
