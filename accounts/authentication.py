import uuid

from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken
from rest_framework_simplejwt.utils import aware_utcnow

from accounts.selectors import session_user_get_active

# Access tokens whose signature this process has checked, by their raw bytes. A
# token's signature and claims never change, so a client's next request only
# re-checks the expiry instead of decoding and verifying again (~0.3 ms a
# request); whether its session is still live is asked every time (get_user).
VERIFIED_TOKENS_KEPT = 4096
_verified: dict[bytes, AccessToken] = {}


class SessionJWTAuthentication(JWTAuthentication):
    """simplejwt's access-token check, plus: the token's session (``sid``)
    must still be live, so logout, revoke and password change end it at once
    rather than when the token expires. Answered from the session cache (no
    query) when it is warm, from the database otherwise."""

    def get_validated_token(self, raw_token):
        token = _verified.get(raw_token)
        if token is not None:
            try:
                token.check_exp(current_time=aware_utcnow())
                return token
            except TokenError:
                _verified.pop(raw_token, None)  # expired since: the full check below answers why
        try:
            token = super().get_validated_token(raw_token)
        except InvalidToken:
            # simplejwt's error nests a dict; answer in the API's flat shape, and tell
            # an expired token (refresh it) from a bad one (sign in again).
            raise _token_failure(raw_token)
        if len(_verified) >= VERIFIED_TOKENS_KEPT:
            _verified.clear()
        _verified[raw_token] = token
        return token

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
