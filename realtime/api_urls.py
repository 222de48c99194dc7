from django.urls import path
from rest_framework.routers import SimpleRouter

from realtime import views

app_name = "realtime"

router = SimpleRouter(trailing_slash=False)
router.register("notifications", views.NotificationViewSet, basename="notification")

urlpatterns = [
    path("realtime/ticket", views.TicketView.as_view(), name="ticket"),
    *router.urls,
]
