from django.urls import path

from realtime import views

app_name = "realtime_pages"

urlpatterns = [path("live/", views.live, name="live")]
