"""Creating and editing a budget on the admin pages has the API's effects:
alert levels restarted or re-checked, the cached status dropped."""

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client

from budgets.models import Budget
from budgets.services import status_cache_key
from merchants.categories import Category
from realtime.models import Notification
from tests.accounts.factories import UserFactory
from tests.budgets.factories import BudgetFactory
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
URL = "/admin/budgets/budget/"
NOON = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOON.date()


@pytest.fixture(autouse=True)
def march(time_machine):
    time_machine.move_to(NOON, tick=False)


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def budget_form(**fields):
    return {"start_date": "2026-03-01", "end_date": "2026-03-31", "auto_renew": "on", **fields}


def alerts(user):
    return list(Notification.objects.filter(user=user, type="budget_alert").values_list("data", flat=True))


def test_admin_add_checks_spending_already_past_a_level(admin_client, user, django_capture_on_commit_callbacks):
    TransactionFactory(user=user, amount=Decimal("85.00"), date=TODAY, category=Category.GROCERIES)
    cache.set(status_cache_key(user.pk), {"stale": True})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            URL + "add/", budget_form(user=user.pk, category=Category.GROCERIES, amount="100.00")
        )

    assert response.status_code == 302, response.content
    budget = Budget.objects.get(user=user)
    assert (budget.amount, budget.alert_level) == (Decimal("100.00"), 80)
    ((alert),) = alerts(user)
    assert (alert["category"], alert["level"]) == (Category.GROCERIES, "warning")
    assert cache.get(status_cache_key(user.pk)) is None


def test_admin_add_of_a_category_already_budgeted_is_a_form_error(admin_client, user):
    existing = BudgetFactory(user=user, category=Category.GROCERIES)

    response = admin_client.post(URL + "add/", budget_form(user=user.pk, category=Category.GROCERIES, amount="5.00"))

    assert response.status_code == 200
    assert str(existing.pk) in str(response.context["adminform"].form.non_field_errors())
    assert Budget.objects.get(user=user).amount == existing.amount


def test_admin_edit_restarts_levels_for_a_new_category_and_drops_the_cached_status(
    admin_client, user, django_capture_on_commit_callbacks
):
    budget = BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("100.00"))
    Budget.objects.filter(pk=budget.pk).update(
        alert_period_start=budget.start_date, alert_level=100, alert_max_level=100
    )
    TransactionFactory(user=user, amount=Decimal("85.00"), date=TODAY, category=Category.TRANSPORT)
    cache.set(status_cache_key(user.pk), {"stale": True})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{URL}{budget.pk}/change/", budget_form(category=Category.TRANSPORT, amount="100.00")
        )

    assert response.status_code == 302, response.content
    budget.refresh_from_db()
    # The Groceries level (100 %) is gone; Transport's 85 % is a fresh warning.
    assert (budget.category, budget.alert_level, budget.alert_max_level) == (Category.TRANSPORT, 80, 80)
    ((alert),) = alerts(user)
    assert (alert["category"], alert["level"]) == (Category.TRANSPORT, "warning")
    assert cache.get(status_cache_key(user.pk)) is None


def test_admin_lowering_the_amount_re_checks_the_levels(admin_client, user, django_capture_on_commit_callbacks):
    budget = BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("200.00"))
    TransactionFactory(user=user, amount=Decimal("100.00"), date=TODAY, category=Category.GROCERIES)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{URL}{budget.pk}/change/", budget_form(category=Category.GROCERIES, amount="120.00")
        )

    assert response.status_code == 302, response.content
    ((alert),) = alerts(user)
    assert alert["level"] == "warning"


def test_admin_delete_goes_through_the_service(admin_client, user, django_capture_on_commit_callbacks):
    budget = BudgetFactory(user=user)
    cache.set(status_cache_key(user.pk), {"stale": True})

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{URL}{budget.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Budget.objects.filter(pk=budget.pk).exists()
    assert cache.get(status_cache_key(user.pk)) is None
