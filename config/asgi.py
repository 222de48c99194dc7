import os

from django.core.asgi import get_asgi_application

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
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from realtime.middleware import JWTAuthMiddlewareStack, NoOriginOrAllowedHostsValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": NoOriginOrAllowedHostsValidator(JWTAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
