"""Budgets are in the base currency: a base-currency change converts each
budget's amount (and closed periods' amount and spent) at the change date's
rate, in the change's transaction, and the answer says so; without a rate
the amounts are kept and the answer says that instead."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.models import Budget, BudgetPeriod
from ledger.models import ExchangeRate
from merchants.categories import Category
from tests.budgets.factories import BudgetFactory, BudgetPeriodFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/auth/me"


@pytest.fixture
def change_day():
    return timezone.localdate()


def test_budget_amounts_are_converted_at_the_change_dates_rate(auth_client, user, change_day):
    # A rate 5 days old serves the change (within 7 days): 1 EUR = 1.10 USD.
    rate_day = change_day - datetime.timedelta(days=5)
    ExchangeRate.objects.create(currency="USD", date=rate_day, rate=Decimal("1.10"))
    groceries = BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("500.00"))
    tiny = BudgetFactory(user=user, category=Category.TRANSPORT, amount=Decimal("0.01"))
    closed = BudgetPeriodFactory(
        budget=groceries, category=Category.GROCERIES, amount=Decimal("400.00"), spent=Decimal("123.45")
    )
    someone_else = BudgetFactory(amount=Decimal("500.00"))

    response = auth_client.patch(URL, {"base_currency": "EUR"}, format="json")

    assert response.status_code == 202, response.json()
    assert response.json()["base_currency_change"] == {
        "from_currency": "USD",
        "to_currency": "EUR",
        # 1 / 1.10 = 0.90909090909... -> 0.9090909091 (10 places, as a transaction's cross rate)
        "budgets": {"converted": 2, "kept": 0, "rate": "0.9090909091", "rate_date": rate_day.isoformat()},
    }
    # 500.00 x 0.9090909091 = 454.54545455 -> 454.55; 0.01 -> 0.009 -> 0.01 (never below a cent).
    assert Budget.objects.get(pk=groceries.pk).amount == Decimal("454.55")
    assert Budget.objects.get(pk=tiny.pk).amount == Decimal("0.01")
    # 400.00 -> 363.63636364 -> 363.64; 123.45 -> 112.22727273 -> 112.23
    assert BudgetPeriod.objects.values_list("amount", "spent").get(pk=closed.pk) == (
        Decimal("363.64"),
        Decimal("112.23"),
    )
    assert Budget.objects.get(pk=someone_else.pk).amount == Decimal("500.00")
    # Only the change's answer carries it.
    assert auth_client.get(URL).json()["base_currency_change"] is None


def test_without_a_rate_the_amounts_are_kept_and_the_answer_says_so(auth_client, user, change_day):
    # The last rate is 8 days old: too old, as for a transaction.
    ExchangeRate.objects.create(currency="USD", date=change_day - datetime.timedelta(days=8), rate=Decimal("1.10"))
    budget = BudgetFactory(user=user, amount=Decimal("500.00"))

    response = auth_client.patch(URL, {"base_currency": "EUR"}, format="json")

    assert response.status_code == 202
    assert response.json()["base_currency_change"]["budgets"] == {
        "converted": 0,
        "kept": 1,
        "rate": None,
        "rate_date": None,
    }
    assert Budget.objects.get(pk=budget.pk).amount == Decimal("500.00")


def test_an_amount_too_large_for_the_new_currency_refuses_the_change(auth_client, user, change_day):
    ExchangeRate.objects.create(currency="IDR", date=change_day, rate=Decimal("18000"))
    ExchangeRate.objects.create(currency="USD", date=change_day, rate=Decimal("1.10"))
    BudgetFactory(user=user, amount=Decimal("900000000.00"))

    response = auth_client.patch(URL, {"base_currency": "IDR"}, format="json")

    assert response.status_code == 400, response.json()
    user.refresh_from_db()
    assert (user.base_currency, user.base_currency_recompute_started_at) == ("USD", None)
    assert Budget.objects.get(user=user).amount == Decimal("900000000.00")
