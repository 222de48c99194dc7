from django.urls import path
from rest_framework.routers import SimpleRouter

from ledger.anchoring.views import MerkleBatchViewSet
from ledger.attachments.views import AttachmentView, TransactionAttachmentsView
from ledger.books.views import AccountViewSet, TransferViewSet
from ledger.currency.views import CurrencyListView, RateListView
from ledger.imports.views import ImportProfileViewSet, ImportViewSet
from ledger.portfolio.views import PortfolioHoldingViewSet, PortfolioSummaryView
from ledger.recurrences.views import RecurrenceViewSet
from ledger.reports.views import CashflowReportView, NetWorthReportView, SpendingReportView, TrendsReportView
from ledger.rules.views import RuleViewSet
from ledger.transactions.tag_views import TagViewSet
from ledger.transactions.views import MerchantStatsView, TransactionViewSet

app_name = "ledger"

router = SimpleRouter(trailing_slash=False)
router.register("transactions", TransactionViewSet, basename="transaction")
router.register("accounts", AccountViewSet, basename="account")
router.register("transfers", TransferViewSet, basename="transfer")
router.register("rules", RuleViewSet, basename="rule")
router.register("tags", TagViewSet, basename="tag")
router.register("imports", ImportViewSet, basename="import")
router.register("import-profiles", ImportProfileViewSet, basename="import-profile")
router.register("recurrences", RecurrenceViewSet, basename="recurrence")
router.register("ledger/batches", MerkleBatchViewSet, basename="merkle-batch")
router.register("portfolio/holdings", PortfolioHoldingViewSet, basename="portfolio-holding")

urlpatterns = [
    path(
        "transactions/<uuid:transaction_id>/attachments",
        TransactionAttachmentsView.as_view(),
        name="transaction-attachments",
    ),
    path("attachments/<uuid:attachment_id>", AttachmentView.as_view(), name="attachment"),
    *router.urls,
    path("reports/net-worth", NetWorthReportView.as_view(), name="net-worth"),
    path("reports/spending", SpendingReportView.as_view(), name="report-spending"),
    path("reports/cashflow", CashflowReportView.as_view(), name="report-cashflow"),
    path("reports/trends", TrendsReportView.as_view(), name="report-trends"),
    path("portfolio/summary", PortfolioSummaryView.as_view(), name="portfolio-summary"),
    path("currencies", CurrencyListView.as_view(), name="currency-list"),
    path("rates", RateListView.as_view(), name="rate-list"),
    path("merchants/stats", MerchantStatsView.as_view(), name="merchant-stats"),
]
