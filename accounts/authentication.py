import uuid

from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.selectors import session_user_get_active


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token check, plus: the token's session (``sid``)
    must still be live, so logout, revoke and password change end it at once
    rather than when the token expires. Answered from the session cache (no
    query) when it is warm, from the database otherwise."""

    def get_validated_token(self, raw_token):
        try:
            return super().get_validated_token(raw_token)
        except InvalidToken:
            # simplejwt's error nests a dict; answer in the API's flat shape, and tell
            # an expired token (refresh it) from a bad one (sign in again).
            raise _token_failure(raw_token)

    def get_user(self, validated_token):
        try:
            session_id = uuid.UUID(str(validated_token.get("sid")))
        except ValueError:
            raise AuthenticationFailed("Token has no valid session.", code="token_not_valid")
        user = session_user_get_active(
            session_id=session_id, user_id=validated_token.get("user_id"), now=timezone.now()
        )
        if user is None:
            raise AuthenticationFailed("Session has ended.", code="session_revoked")
        user.current_session_id = session_id
        return user


def _token_failure(raw_token) -> AuthenticationFailed:
    try:
        AccessToken(raw_token)
    except ExpiredTokenError:  # signature good, only too old
        return AuthenticationFailed("Token is expired; refresh it.", code="token_expired")
    except TokenError:
        pass
    return AuthenticationFailed("Token is invalid.", code="token_not_valid")
