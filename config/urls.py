from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import health

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
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("health/", health.health, name="health"),
    path("ready/", health.ready, name="ready"),
    path("", include("django_prometheus.urls")),
    path("", include("realtime.page_urls")),
]

# Django's error pages answer JSON in the error shape under /api/ (config.error_pages).
handler400 = "config.error_pages.bad_request"
handler403 = "config.error_pages.permission_denied"
handler404 = "config.error_pages.page_not_found"
handler500 = "config.error_pages.server_error"
