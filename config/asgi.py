import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _leave_multipart_to_django() -> None:
    """Under daphne, Twisted parses a multipart body into request.args (which daphne
    never reads) before the application runs, and answers one it cannot parse with
    an empty, untyped 400 and a disconnect. Without that parse, Django's parser
    reads the body and a malformed one is a 400 in the API's error shape."""
    try:
        from twisted.web import http as twisted_http
    except ImportError:  # not under daphne
        return
    if hasattr(twisted_http, "_getMultiPartArgs"):
        twisted_http._getMultiPartArgs = lambda content, ctype: {}


_leave_multipart_to_django()

# Django must be set up before anything imports models (the WS middleware does).
django.setup(set_prefix=False)

from config.error_pages import api_error_response, is_api_path  # noqa: E402


class ApiASGIHandler(ASGIHandler):
    """Django's ASGI handler (what get_asgi_application returns), except that a request
    it refuses before any middleware runs (a query string that is not UTF-8: an empty
    400) is answered in the error shape under /api/."""

    def create_request(self, scope, body_file):
        request, refusal = super().create_request(scope, body_file)
        if refusal is not None and is_api_path(scope.get("path", "")):
            return None, api_error_response(refusal.status_code)
        return request, refusal


django_asgi_app = ApiASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.middleware import JWTAuthMiddlewareStack, NoOriginOrAllowedHostsValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": NoOriginOrAllowedHostsValidator(JWTAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
