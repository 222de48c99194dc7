from django.urls import path
from rest_framework.routers import SimpleRouter

from ledger import anchoring_views, portfolio_views, recurrence_views, views

app_name = "ledger"

router = SimpleRouter(trailing_slash=False)
router.register("transactions", views.TransactionViewSet, basename="transaction")
router.register("recurrences", recurrence_views.RecurrenceViewSet, basename="recurrence")
router.register("ledger/batches", anchoring_views.MerkleBatchViewSet, basename="merkle-batch")
router.register("portfolio/holdings", portfolio_views.PortfolioHoldingViewSet, basename="portfolio-holding")

urlpatterns = [
    *router.urls,
    path("portfolio/summary", portfolio_views.PortfolioSummaryView.as_view(), name="portfolio-summary"),
]
