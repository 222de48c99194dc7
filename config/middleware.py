"""Middleware of our own."""

import functools
import http.client
import ipaddress
import logging
import re
import time

import structlog
from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as _DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import SimpleLazyObject, empty

from config.error_pages import api_error_response, is_api_path
from config.logs import new_request_id
from config.proxies import is_trusted

FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"


class TrustedForwardedProtoMiddleware:
    """Django believes SECURE_PROXY_SSL_HEADER from any peer. This drops the
    header unless the peer is one of TRUSTED_PROXIES, so request.is_secure()
    (and with it HSTS and the https redirect) follows what our proxy saw, not
    what a client wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if FORWARDED_PROTO in request.META and not is_trusted(request.META.get("REMOTE_ADDR", "")):
            del request.META[FORWARDED_PROTO]
        return self.get_response(request)


class SyncChainMiddleware:
    """Keeps the whole middleware chain synchronous under ASGI.

    Django's MiddlewareMixin middleware can run sync or async; under ASGI it
    picks async while the handler below is async, and then every
    process_request/process_response crosses to a worker thread and back
    (about twenty thread hops a request for our list). Being sync-only and
    last, this middleware makes Django choose sync mode for every middleware
    above it, so a request costs one hop into a thread and one back for the
    view. Nothing here is async, so nothing is lost.
    """

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)


def _is_api(request) -> bool:
    return request.path_info.startswith(settings.API_PATH_PREFIX)


# Cookie sessions, their user and flash messages are for the admin and the
# pages. The JSON API authenticates every request by its bearer token and never
# reads a cookie session, so there these three do nothing (subclasses, so the
# admin's checks still find them).


class BrowserSessionMiddleware(SessionMiddleware):
    def process_request(self, request):
        if not _is_api(request):
            super().process_request(request)

    def process_response(self, request, response):
        return response if _is_api(request) else super().process_response(request, response)


class BrowserAuthenticationMiddleware(AuthenticationMiddleware):
    def process_request(self, request):
        if not _is_api(request):
            super().process_request(request)


class BrowserMessageMiddleware(MessageMiddleware):
    def process_request(self, request):
        if not _is_api(request):
            super().process_request(request)

    def process_response(self, request, response):
        return response if _is_api(request) else super().process_response(request, response)


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
request_logger = structlog.get_logger("tally.request")


def _from_trusted_proxy(request) -> bool:
    try:
        remote = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    return any(remote in ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES)


def request_id_for(request) -> str:
    """The proxy's X-Request-ID when a trusted proxy sent a sane one (so one id
    follows the request through the proxy's logs and ours); otherwise a new one.
    A client cannot choose the id its requests are logged under."""
    offered = request.META.get("HTTP_X_REQUEST_ID", "")
    if offered and _REQUEST_ID.match(offered) and _from_trusted_proxy(request):
        return offered
    return new_request_id()


def _user_id(request):
    user = request.__dict__.get("user")
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None  # nobody looked at the user; do not load a session just to log it
    return str(user.pk) if getattr(user, "is_authenticated", False) else None


class RequestLogMiddleware:
    """First in the chain: binds the request id for every log line the request
    writes, returns it as X-Request-ID, and writes the one ``request`` line
    (method, path without the query string, which may hold search text, status,
    duration, user). Sync-only, like SyncChainMiddleware."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_for(request)
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            status = response.status_code
            level = logging.ERROR if status >= 500 else logging.WARNING if status >= 400 else logging.INFO
            user_id = _user_id(request)
            if user_id is not None:
                structlog.contextvars.bind_contextvars(user_id=user_id)
            request_logger.log(
                level,
                "request",
                method=request.method,
                path=request.path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            return response
        finally:
            structlog.contextvars.clear_contextvars()


class ApiErrorShapeMiddleware:
    """Every error under /api/ is JSON in the one error shape, DEBUG or not.

    Outer to all but the request log and metrics, so it sees what Django made of an unknown URL (DEBUG's
    technical 404 page), of an exception in a middleware, or of a body Django refused,
    and rewrites any non-JSON error. A body over DATA_UPLOAD_MAX_MEMORY_SIZE is a 413
    before anything reads it: Django would raise RequestDataTooBig wherever it is read
    first (a 400 page, or a 500 inside a view). Multipart is left to the parsers, since
    Django counts only its non-file fields against that limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_path(request.path_info):
            return self.get_response(request)
        if _body_over_limit(request):
            return api_error_response(413)
        response = self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            return _as_error_shape(response)
        return response


def _body_over_limit(request) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None or request.content_type == "multipart/form-data":
        return False
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0) > limit
    except ValueError:
        return False


def _is_json(response) -> bool:
    media_type = response.get("Content-Type", "").split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _as_error_shape(response):
    shaped = api_error_response(response.status_code)
    # Keep what the layers below said about the request (Allow, Retry-After, CORS, cookies).
    for name, value in response.items():
        if name.lower() not in ("content-type", "content-length", "content-encoding", "content-disposition"):
            shaped[name] = value
    shaped.cookies = response.cookies
    if hasattr(response, "close"):
        response.close()
    return shaped


# A view's own policy (django-csp's decorators) or an exemption: the response attributes they set.
_CSP_OVERRIDES = tuple(f"_csp_{kind}{ro}" for kind in ("config", "update", "replace", "exempt") for ro in ("", "_ro"))


@functools.cache
def _settings_policies() -> tuple[str, str, tuple, tuple]:
    """The settings' policy and report-only policy and their excluded path prefixes."""
    prefixes = [
        tuple((getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    ]
    return build_policy(), build_policy(report_only=True), *prefixes


@receiver(setting_changed)
def _forget_policies(*, setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policies.cache_clear()


class CSPMiddleware(_DjangoCSPMiddleware):
    """django-csp's middleware, with the settings' policy built once: a response
    that used no nonce and whose view changed no policy (every API response)
    gets the same two headers django-csp would build again for it (two
    build_policy calls, ~0.4 ms a request). Anything else goes through
    django-csp as it is."""

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(hasattr(response, a) for a in _CSP_OVERRIDES):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND):
            return response
        policy, report_only, excluded, excluded_ro = _settings_policies()
        if policy and CSP_HEADER not in response and not request.path_info.startswith(excluded):
            response[CSP_HEADER] = policy
        if report_only and CSP_HEADER_REPORT_ONLY not in response and not request.path_info.startswith(excluded_ro):
            response[CSP_HEADER_REPORT_ONLY] = report_only
        # As django-csp does: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
