"""/metrics (django-prometheus) behind a bearer token: with DEBUG off, or
whenever METRICS_TOKEN is set, a scrape needs ``Authorization: Bearer
$METRICS_TOKEN``. With DEBUG off and no token configured, nobody gets in."""

import hmac

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView


def _error(status: int, code: str, detail: str) -> JsonResponse:
    response = JsonResponse(
        {"type": "client_error", "errors": [{"code": code, "detail": detail, "attr": None}]}, status=status
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
@require_GET
def metrics(request):
    token = settings.METRICS_TOKEN
    if token or not settings.DEBUG:
        if not token:
            return _error(403, "permission_denied", "Metrics are disabled: set METRICS_TOKEN.")
        scheme, _, presented = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return _error(401, "not_authenticated", "Send Authorization: Bearer <METRICS_TOKEN>.")
        if not hmac.compare_digest(presented.strip().encode(), token.encode()):
            return _error(403, "permission_denied", "Wrong metrics token.")
    return ExportToDjangoView(request)
