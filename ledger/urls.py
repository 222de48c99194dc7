from rest_framework.routers import SimpleRouter

from ledger import views

app_name = "ledger"

router = SimpleRouter(trailing_slash=False)
router.register("transactions", views.TransactionViewSet, basename="transaction")

urlpatterns = router.urls
