from django.urls import path
from rest_framework.routers import SimpleRouter

from merchants import views

app_name = "merchants"

router = SimpleRouter(trailing_slash=False)
router.register("merchants", views.MerchantViewSet, basename="merchant")

urlpatterns = [
    path("categories", views.CategoryListView.as_view(), name="categories"),
    *router.urls,
]
