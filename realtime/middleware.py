"""Authenticates a WebSocket handshake from a JWT access token or a ticket.

Where the credential may be: ``?ticket=`` (single use, 30 s, from
``POST /api/v1/realtime/ticket``), ``?token=<access JWT>``, or the
``Sec-WebSocket-Protocol`` header as ``bearer, <token>`` for clients that can
set neither. The token goes through simplejwt's own ``AccessToken`` (signature,
expiry, ``token_type == access``, algorithm pinned), then its ``sid`` session
must still be live, as for the REST API. On failure ``scope["user"]`` is
anonymous and the consumer closes with 1008."""

import uuid
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import AccessToken

from accounts.selectors import session_get_active
from realtime.services import ticket_redeem

BEARER_SUBPROTOCOL = "bearer"


def credentials_from_scope(scope) -> tuple[str | None, str | None]:
    """(token, ticket) as the client sent them."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    ticket = (query.get("ticket") or [None])[0]
    token = (query.get("token") or [None])[0]
    subprotocols = scope.get("subprotocols") or []
    if token is None and len(subprotocols) >= 2 and subprotocols[0].lower() == BEARER_SUBPROTOCOL:
        token = subprotocols[1]
    return token, ticket


def _active_user(*, user_id, session_id):
    try:
        session_id = uuid.UUID(str(session_id))
    except ValueError:
        return None
    session = session_get_active(session_id=session_id, user_id=user_id, now=timezone.now())
    if session is None or not session.user.is_active:
        return None
    user = session.user
    user.current_session_id = session.id
    return user


def user_from_token(raw: str):
    try:
        token = AccessToken(raw)  # type must be access; bad signature, expiry, alg none are TokenError
    except TokenError:
        return None
    return _active_user(user_id=token.get("user_id"), session_id=token.get("sid"))


def user_from_ticket(ticket: str):
    redeemed = ticket_redeem(ticket=ticket)
    if redeemed is None:
        return None
    user_id, session_id = redeemed
    return _active_user(user_id=user_id, session_id=session_id)


@database_sync_to_async
def authenticate(scope):
    token, ticket = credentials_from_scope(scope)
    if ticket:
        return user_from_ticket(ticket)
    if token:
        return user_from_token(token)
    return None


class JWTAuthMiddleware(BaseMiddleware):
    async def __call__(self, scope, receive, send):
        scope = dict(scope)
        user = await authenticate(scope)
        scope["user"] = user or AnonymousUser()
        return await super().__call__(scope, receive, send)


def JWTAuthMiddlewareStack(inner):  # noqa: N802 - mirrors channels' AuthMiddlewareStack
    return JWTAuthMiddleware(inner)


class NoOriginOrAllowedHostsValidator(OriginValidator):
    """channels' AllowedHostsOriginValidator refuses a handshake without an
    Origin header, which shuts out every non-browser client (mobile apps,
    scripts, the `websockets` bench). Origin checks only guard ambient
    credentials (cookies); our sockets carry a token or ticket, so a missing
    Origin is let through while a browser's foreign Origin is still refused."""

    def __init__(self, application):
        allowed_hosts = settings.ALLOWED_HOSTS
        if settings.DEBUG and not allowed_hosts:
            allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, allowed_hosts)

    def valid_origin(self, parsed_origin):
        if parsed_origin is None:
            return True
        return super().valid_origin(parsed_origin)
