from django.urls import path
from rest_framework.routers import SimpleRouter

from realtime import views
from realtime.webhooks.views import WebhookDeliveryViewSet, WebhookEndpointViewSet

app_name = "realtime"

router = SimpleRouter(trailing_slash=False)
router.register("notifications", views.NotificationViewSet, basename="notification")
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = [
    path("realtime/ticket", views.TicketView.as_view(), name="ticket"),
    *router.urls,
]
