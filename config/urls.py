from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from config import health
from config.metrics_endpoint import metrics
from config.openapi import SchemaFormatNegotiation

# The docs pages' CSP: Swagger UI and ReDoc style themselves inline, ReDoc runs a
# blob: worker and asks Google for fonts, and both load their bundles from
# DOCS_ASSET_ORIGINS ('self' once served by drf-spectacular-sidecar).
DOCS_ASSET_ORIGINS = ["https://cdn.jsdelivr.net"]
docs_csp = csp_update(
    {
        "script-src": DOCS_ASSET_ORIGINS,
        "style-src": [UNSAFE_INLINE, "https://fonts.googleapis.com", *DOCS_ASSET_ORIGINS],
        "img-src": [*DOCS_ASSET_ORIGINS, "https://cdn.redoc.ly"],
        "font-src": ["https://fonts.gstatic.com"],
        "worker-src": [SELF, "blob:"],
    }
)

# The admin's "View site" goes to the API docs: there is no page at /.
admin.site.site_url = "/api/docs/"
admin.site.site_header = admin.site.site_title = "Tally admin"

api_v1 = [
    path("auth/", include("accounts.urls")),
    path("", include("merchants.urls")),
    path("", include("ledger.urls")),
    path("", include("budgets.urls")),
    path("", include("realtime.api_urls")),
    path("", include("workers.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(content_negotiation_class=SchemaFormatNegotiation), name="schema"),
    # The split view serves its init script as a file (?script=), so no inline script is needed.
    path("api/docs/", docs_csp(SpectacularSwaggerSplitView.as_view(url_name="schema")), name="swagger-ui"),
    path("api/redoc/", docs_csp(SpectacularRedocView.as_view(url_name="schema")), name="redoc"),
    path("health/", health.health, name="health"),
    path("ready/", health.ready, name="ready"),
    path("metrics", metrics, name="prometheus-django-metrics"),
    path("", include("realtime.page_urls")),
]

# Django's error pages answer JSON in the error shape under /api/ (config.error_pages).
handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
