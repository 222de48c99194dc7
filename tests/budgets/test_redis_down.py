"""Budgets with Redis down: alerts are decided and stored in PostgreSQL,
writes answer what they committed, and status is computed without the cache."""

import datetime

import pytest
from django.utils import timezone

from budgets.models import Budget
from merchants.categories import Category
from realtime.models import Notification
from tests.budgets.factories import BudgetFactory
from tests.ledger.factories import TransactionFactory

# Real commits: the on-commit work (cache invalidation, alerts, publishing) runs as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def this_month() -> tuple[datetime.date, datetime.date]:
    today = timezone.localdate()
    start = today.replace(day=1)
    end = (start + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1)
    return start, end


@pytest.fixture
def groceries(user):
    start, end = this_month()
    return BudgetFactory(user=user, category=Category.GROCERIES, amount="200.00", start_date=start, end_date=end)


def stored_alerts(user) -> list[dict]:
    return list(
        Notification.objects.filter(user=user, type="budget_alert").order_by("id").values_list("data", flat=True)
    )


def test_transaction_crossing_a_level_stores_the_alert_while_redis_is_down(user, auth_client, groceries, redis_away):
    response = auth_client.post(
        "/api/v1/transactions",
        {
            "amount": "170.00",
            "date": timezone.localdate().isoformat(),
            "merchant_raw": "Tesco",
            "category": Category.GROCERIES,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    (alert,) = stored_alerts(user)
    assert alert["level"] == "warning" and alert["spent"] == "170.00" and alert["category"] == "Groceries"
    groceries.refresh_from_db()
    assert groceries.alert_level == 80


def test_budget_create_answers_201_and_stores_the_alert_while_redis_is_down(user, auth_client, redis_away):
    TransactionFactory(user=user, amount="95.00", category=Category.GROCERIES, date=timezone.localdate())

    response = auth_client.post("/api/v1/budgets", {"category": "Groceries", "amount": "100.00"}, format="json")

    assert response.status_code == 201, response.content
    budget = Budget.objects.get(user=user, category=Category.GROCERIES)
    assert response.json()["id"] == str(budget.pk)
    assert [alert["level"] for alert in stored_alerts(user)] == ["critical"]


def test_budget_patch_answers_200_while_redis_is_down(user, auth_client, groceries, redis_away):
    TransactionFactory(user=user, amount="150.00", category=Category.GROCERIES, date=timezone.localdate())

    response = auth_client.patch(f"/api/v1/budgets/{groceries.pk}", {"amount": "130.00"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["amount"] == "130.00"
    groceries.refresh_from_db()
    assert str(groceries.amount) == "130.00"
    assert [alert["level"] for alert in stored_alerts(user)] == ["severe"]


def test_budget_status_is_computed_without_the_cache_while_redis_is_down(user, auth_client, groceries, redis_away):
    TransactionFactory(user=user, amount="190.00", category=Category.GROCERIES, date=timezone.localdate())

    response = auth_client.get("/api/v1/budgets/status")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["budget_count"] == 1 and body["total_spent"] == "190.00" and body["at_risk_count"] == 1
