import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from budgets.models import Budget, BudgetPeriod
from budgets.services import status_cache_key
from merchants.categories import Category
from tests.budgets.factories import BudgetFactory, BudgetPeriodFactory
from tests.conftest import login
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/budgets"
TODAY = datetime.date(2026, 3, 15)


@pytest.fixture(autouse=True)
def march(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC), tick=False)


def travel(time_machine, client, user, when):
    """Move the clock; the old access token has expired by then, so sign in again."""
    time_machine.move_to(when, tick=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, user)['access']}")


def spend(user, amount, category=Category.GROCERIES, day=TODAY):
    return TransactionFactory(user=user, amount=Decimal(amount), category=category, date=day)


def test_post_creates_a_budget_for_the_current_month(auth_client, user):
    response = auth_client.post(URL, {"category": "Groceries", "amount": "300"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["category"] == "Groceries"
    assert (body["amount"], body["spent"], body["remaining"], body["percentage"], body["status"]) == (
        "300.00",
        "0.00",
        "300.00",
        0.0,
        "healthy",
    )
    assert (body["start_date"], body["end_date"], body["auto_renew"]) == ("2026-03-01", "2026-03-31", True)
    assert Budget.objects.get(user=user).amount == Decimal("300.00")


def test_post_again_for_the_same_category_updates_it(auth_client, user):
    first = auth_client.post(URL, {"category": "Groceries", "amount": "300.00"}, format="json").json()

    response = auth_client.post(URL, {"category": "Groceries", "amount": "250.50", "auto_renew": False}, format="json")

    assert response.status_code == 200
    assert response.json()["id"] == first["id"]
    assert (response.json()["amount"], response.json()["auto_renew"]) == ("250.50", False)
    assert Budget.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"category": "Groceries", "amount": "0"}, "amount"),
        ({"category": "Groceries", "amount": "-5.00"}, "amount"),
        ({"category": "Groceries", "amount": "abc"}, "amount"),
        ({"category": "Groceries"}, "amount"),
        ({"category": "Yachts", "amount": "10"}, "category"),
        (
            {"category": "Groceries", "amount": "10", "start_date": "2026-03-10", "end_date": "2026-03-01"},
            "end_date",
        ),
        (
            {"category": "Groceries", "amount": "10", "start_date": "2026-03-10", "end_date": "2026-03-10"},
            "end_date",
        ),
    ],
)
def test_invalid_budget_is_a_400_in_the_error_shape(auth_client, payload, attr):
    response = auth_client.post(URL, payload, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert attr in [error["attr"] for error in body["errors"]]
    assert not Budget.objects.exists()


def test_list_shows_figures_and_suggested_amount_from_one_statement(auth_client, user, django_assert_num_queries):
    for category in (Category.GROCERIES, Category.TRANSPORT, Category.HEALTH, Category.SHOPPING):
        BudgetFactory(user=user, category=category, amount=Decimal("100.00"))
    spend(user, "85.00")
    spend(user, "-5.00")
    spend(user, "120.00", category=Category.TRANSPORT)
    auth_client.get("/api/v1/categories")  # the session check is cached from here on

    with django_assert_num_queries(2):  # the ledger version; figures, count and suggestions in one statement
        response = auth_client.get(URL)
    with django_assert_num_queries(1):  # the ledger has not moved: the rows come from Redis
        again = auth_client.get(URL)

    assert again.json() == response.json()

    assert response.status_code == 200
    rows = {row["category"]: row for row in response.json()["results"]}
    assert response.json()["count"] == 4
    assert (rows["Groceries"]["spent"], rows["Groceries"]["percentage"], rows["Groceries"]["status"]) == (
        "80.00",
        80.0,
        "at_risk",
    )
    assert (rows["Transport"]["remaining"], rows["Transport"]["status"]) == ("-20.00", "over")
    assert rows["Groceries"]["suggested_amount"] == "90.00"  # 80 in the one month covered, +10 %
    assert rows["Health"]["suggested_amount"] is None


def test_list_filters_by_category_and_refuses_an_unknown_status(auth_client, user):
    BudgetFactory(user=user, category=Category.GROCERIES)
    BudgetFactory(user=user, category=Category.TRANSPORT, auto_renew=False)

    by_category = auth_client.get(URL, {"category": "Transport"}).json()
    by_renewal = auth_client.get(URL, {"auto_renew": "true"}).json()
    paged = auth_client.get(URL, {"limit": 1, "offset": 1}).json()
    bad = auth_client.get(URL, {"status": "doomed"})

    assert (by_category["count"], [row["category"] for row in by_category["results"]]) == (1, ["Transport"])
    assert [row["category"] for row in by_renewal["results"]] == ["Groceries"]
    assert (paged["count"], [row["category"] for row in paged["results"]]) == (2, ["Transport"])
    assert bad.status_code == 400
    assert (bad.json()["type"], bad.json()["errors"][0]["attr"]) == ("validation_error", "status")


def test_list_filters_by_status(auth_client, user):
    BudgetFactory(user=user, category=Category.GROCERIES)
    BudgetFactory(user=user, category=Category.TRANSPORT)
    spend(user, "100.00", category=Category.TRANSPORT)

    response = auth_client.get(URL, {"status": "over"})

    assert [row["category"] for row in response.json()["results"]] == ["Transport"]


def test_retrieve_patch_and_delete(auth_client, user):
    budget = BudgetFactory(user=user)
    spend(user, "50.00")

    assert auth_client.get(f"{URL}/{budget.pk}").json()["spent"] == "50.00"

    patched = auth_client.patch(f"{URL}/{budget.pk}", {"amount": "60.00"}, format="json")
    assert patched.status_code == 200
    assert (patched.json()["amount"], patched.json()["percentage"]) == ("60.00", 83.3)

    bad = auth_client.patch(f"{URL}/{budget.pk}", {"end_date": "2026-02-01"}, format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "end_date"

    assert auth_client.delete(f"{URL}/{budget.pk}").status_code == 204
    assert not Budget.objects.exists()


def test_patch_to_a_category_that_has_a_budget_is_a_409_with_its_id(auth_client, user):
    groceries = BudgetFactory(user=user, category=Category.GROCERIES)
    transport = BudgetFactory(user=user, category=Category.TRANSPORT)

    response = auth_client.patch(f"{URL}/{transport.pk}", {"category": "Groceries"}, format="json")

    assert response.status_code == 409
    assert response.json()["existing_id"] == str(groceries.pk)


def test_another_users_budget_is_a_404(auth_client, other_user):
    budget = BudgetFactory(user=other_user)

    assert auth_client.get(f"{URL}/{budget.pk}").status_code == 404
    assert auth_client.patch(f"{URL}/{budget.pk}", {"amount": "1"}, format="json").status_code == 404
    assert auth_client.delete(f"{URL}/{budget.pk}").status_code == 404
    assert auth_client.post(f"{URL}/{budget.pk}/renew", {}, format="json").status_code == 404
    assert auth_client.get(f"{URL}/{budget.pk}/history").status_code == 404
    assert auth_client.get(f"{URL}/not-a-uuid").status_code == 404
    assert Budget.objects.filter(pk=budget.pk).exists()


def test_requires_authentication(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.get(f"{URL}/status").status_code == 401


def test_status_reports_totals_and_lists(auth_client, user):
    BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("100.00"))
    BudgetFactory(user=user, category=Category.TRANSPORT, amount=Decimal("50.00"))
    spend(user, "90.00")
    spend(user, "75.00", category=Category.TRANSPORT)

    response = auth_client.get(f"{URL}/status")

    assert response.status_code == 200
    assert response.json() == {
        "currency": "USD",
        "unconverted": [],
        "budget_count": 2,
        "total_budgeted": "150.00",
        "total_spent": "165.00",
        "total_remaining": "-15.00",
        "overall_percentage": 110.0,
        "over_budget_count": 1,
        "at_risk_count": 1,
        "healthy_count": 0,
        "over_budget": [
            {"category": "Transport", "budget": "50.00", "spent": "75.00", "percentage": 150.0, "overage": "25.00"}
        ],
        "at_risk": [
            {"category": "Groceries", "budget": "100.00", "spent": "90.00", "percentage": 90.0, "remaining": "10.00"}
        ],
    }


def test_status_is_cached_and_invalidated_by_a_budget_write(auth_client, user, django_capture_on_commit_callbacks):
    budget = BudgetFactory(user=user, amount=Decimal("100.00"))
    assert auth_client.get(f"{URL}/status").json()["total_budgeted"] == "100.00"
    Budget.objects.filter(pk=budget.pk).update(amount=Decimal("999.00"))  # behind the service's back
    assert auth_client.get(f"{URL}/status").json()["total_budgeted"] == "100.00"  # served from the cache

    with django_capture_on_commit_callbacks(execute=True):
        auth_client.patch(f"{URL}/{budget.pk}", {"amount": "200.00"}, format="json")

    assert cache.get(status_cache_key(user.pk)) is None
    assert auth_client.get(f"{URL}/status").json()["total_budgeted"] == "200.00"


def test_action_words_are_not_taken_for_an_id(auth_client):
    for word in ("status", "comparison", "suggestions"):
        assert auth_client.get(f"{URL}/{word}").status_code == 200, word


def test_renew_endpoint_and_its_conflicts(auth_client, user, time_machine):
    budget = BudgetFactory(user=user)  # March 2026, today is 15 March
    assert auth_client.post(f"{URL}/{budget.pk}/renew", {}, format="json").status_code == 409

    travel(time_machine, auth_client, user, datetime.datetime(2026, 4, 2, 9, tzinfo=datetime.UTC))
    renewed = auth_client.post(f"{URL}/{budget.pk}/renew", {}, format="json")
    assert renewed.status_code == 200
    assert (renewed.json()["start_date"], renewed.json()["end_date"]) == ("2026-04-01", "2026-04-30")

    again = auth_client.post(f"{URL}/{budget.pk}/renew", {}, format="json")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "already_renewed"


def test_renew_long_after_the_end_needs_catch_up(auth_client, user, time_machine):
    budget = BudgetFactory(user=user)
    travel(time_machine, auth_client, user, datetime.datetime(2026, 7, 2, 9, tzinfo=datetime.UTC))

    late = auth_client.post(f"{URL}/{budget.pk}/renew", {}, format="json")
    caught_up = auth_client.post(f"{URL}/{budget.pk}/renew", {"catch_up": True}, format="json")

    assert late.status_code == 409
    assert late.json()["errors"][0]["code"] == "periods_missed"
    assert "catch_up=true" in late.json()["errors"][0]["detail"]
    assert caught_up.status_code == 200
    assert caught_up.json()["start_date"] == "2026-07-01"
    assert BudgetPeriod.objects.filter(budget=budget).count() == 4


def test_history_lists_closed_periods_newest_first(auth_client, user):
    budget = BudgetFactory(user=user)
    BudgetPeriodFactory(budget=budget, start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 1, 31))
    BudgetPeriodFactory(
        budget=budget,
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 2, 28),
        spent=Decimal("120.00"),
    )

    response = auth_client.get(f"{URL}/{budget.pk}/history")

    assert response.status_code == 200
    assert response.json()["count"] == 2
    latest = response.json()["results"][0]
    assert (latest["start_date"], latest["spent"], latest["remaining"], latest["percentage"]) == (
        "2026-02-01",
        "120.00",
        "-20.00",
        120.0,
    )


def test_comparison_endpoint(auth_client, user):
    spend(user, "100.00", day=datetime.date(2026, 1, 10))
    spend(user, "80.00", day=datetime.date(2026, 2, 10))

    response = auth_client.get(f"{URL}/comparison", {"month": "2026-02"})

    assert response.status_code == 200
    assert response.json()["categories"] == [
        {
            "category": "Groceries",
            "current": "80.00",
            "previous": "100.00",
            "change": "-20.00",
            "change_percentage": -20.0,
        }
    ]


@pytest.mark.parametrize("month", ["2026-13", "march", "2026-3-1"])
def test_comparison_with_a_bad_month_is_a_400(auth_client, month):
    response = auth_client.get(f"{URL}/comparison", {"month": month})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "month"


def test_suggestions_endpoint(auth_client, user):
    spend(user, "300.00", day=datetime.date(2026, 1, 20))
    spend(user, "300.00", day=datetime.date(2026, 3, 1))

    response = auth_client.get(f"{URL}/suggestions")

    assert response.status_code == 200
    [row] = response.json()["results"]
    assert (row["category"], row["monthly_average"], row["suggested_amount"], row["months_of_history"]) == (
        "Groceries",
        "300.00",  # 600 over the 55 days (two months) the history covers
        "330.00",
        2,
    )
