"""Django's own error pages (URL not found, a request Django refused, a crash),
as the API's one error shape under /api/ and as Django's HTML elsewhere.

DRF views answer their errors through config.exceptions; these cover what never
reaches a DRF view: an unknown URL or id, a body Django refused while reading it,
an exception outside a view. ``ApiErrorShapeMiddleware`` (config.middleware) applies
the same shape to any non-JSON error under /api/, DEBUG's technical pages included."""

import json

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponse
from django.views import defaults

API_PREFIX = "/api/"

_DEFAULTS = {
    400: ("bad_request", "The request could not be read."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    406: ("not_acceptable", "Could not satisfy the request Accept header."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Unsupported media type in request."),
    429: ("throttled", "Request was throttled."),
    500: ("error", "Server Error (500)"),
}


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


def api_error_body(status: int, *, code: str | None = None, detail: str | None = None) -> bytes:
    default_code, default_detail = _DEFAULTS.get(status, ("error", f"Error ({status})."))
    kind = "server_error" if status >= 500 else "client_error"
    error = {"code": code or default_code, "detail": detail or default_detail, "attr": None}
    return json.dumps({"type": kind, "errors": [error]}).encode()


def api_error_response(status: int, **kwargs) -> HttpResponse:
    return HttpResponse(api_error_body(status, **kwargs), status=status, content_type="application/json")


def bad_request(request, exception, template_name="400.html"):
    if not is_api_path(request.path):
        return defaults.bad_request(request, exception, template_name)
    if isinstance(exception, RequestDataTooBig):
        return api_error_response(413)
    if isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
        return api_error_response(400, code="too_many_fields", detail="The request has too many fields or files.")
    return api_error_response(400)


def permission_denied(request, exception, template_name="403.html"):
    if not is_api_path(request.path):
        return defaults.permission_denied(request, exception, template_name)
    return api_error_response(403)


def page_not_found(request, exception, template_name="404.html"):
    if not is_api_path(request.path):
        return defaults.page_not_found(request, exception, template_name)
    return api_error_response(404)


def server_error(request, template_name="500.html"):
    if not is_api_path(request.path):
        return defaults.server_error(request, template_name)
    return api_error_response(500)
