from django.urls import path
from rest_framework.routers import SimpleRouter

from budgets import views

app_name = "budgets"

# SimpleRouter lists detail=False actions (status, comparison, suggestions)
# before the {pk} route, so those words are never taken for an id.
router = SimpleRouter(trailing_slash=False)
router.register("budgets", views.BudgetViewSet, basename="budget")

urlpatterns = [*router.urls, path("reports/budgets", views.BudgetReportView.as_view(), name="report-budgets")]
