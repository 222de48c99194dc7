from django.urls import path
from rest_framework.routers import SimpleRouter

from ledger.anchoring.views import MerkleBatchViewSet
from ledger.portfolio.views import PortfolioHoldingViewSet, PortfolioSummaryView
from ledger.recurrences.views import RecurrenceViewSet
from ledger.transactions.views import TransactionViewSet

app_name = "ledger"

router = SimpleRouter(trailing_slash=False)
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("recurrences", RecurrenceViewSet, basename="recurrence")
router.register("ledger/batches", MerkleBatchViewSet, basename="merkle-batch")
router.register("portfolio/holdings", PortfolioHoldingViewSet, basename="portfolio-holding")

urlpatterns = [
    *router.urls,
    path("portfolio/summary", PortfolioSummaryView.as_view(), name="portfolio-summary"),
]
