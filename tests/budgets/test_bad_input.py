"""Budgets never answer 500 on huge sums, and a response never lies about a write (issue 13)."""

import contextlib
import datetime
from decimal import Decimal

import pytest

from budgets.models import Budget, BudgetPeriod
from budgets.services import budget_renew, renew_due_budgets
from realtime.models import Notification
from tests.budgets.factories import BudgetFactory
from tests.conftest import login

pytestmark = pytest.mark.django_db

URL = "/api/v1/budgets"
HUGE = "9999999999.99"
CATCH_UP_LIMIT = 36  # periods one renew request closes at most


@pytest.fixture(autouse=True)
def march(time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC), tick=False)


@pytest.fixture
def client(auth_client):
    auth_client.raise_request_exception = False
    return auth_client


def spend_huge(client, times=2, capture=None):
    for _ in range(times):
        # capture: run the after-commit budget evaluation inside the request.
        with capture(execute=True) if capture else contextlib.nullcontext():
            response = client.post(
                "/api/v1/transactions",
                {"amount": HUGE, "date": "2026-03-10", "merchant_raw": "Yacht", "category": "Shopping",
                 "allow_duplicate": True},
                format="json",
            )  # fmt: skip
        assert response.status_code == 201, response.content


def test_two_huge_transactions_then_a_tiny_budget_never_answer_500(client, user):
    spend_huge(client)

    created = client.post(URL, {"category": "Shopping", "amount": "0.01"}, format="json")

    assert created.status_code == 201, created.content
    body = created.json()
    assert body["spent"] == "19999999999.98"
    assert body["status"] == "over"
    assert body["percentage"] == 9999999999.9  # clamped: it fits its field
    assert Budget.objects.filter(user=user, category="Shopping").count() == 1
    for url in (URL, f"{URL}/status", f"{URL}/comparison", f"{URL}/suggestions", f"{URL}/{body['id']}"):
        assert client.get(url).status_code == 200, (url, client.get(url).content)
    status = client.get(f"{URL}/status").json()
    assert status["total_spent"] == "19999999999.98"
    assert status["over_budget"][0]["percentage"] == 9999999999.9
    assert client.get(f"{URL}/comparison").json()["total_current"] == "19999999999.98"


def test_a_huge_transaction_after_the_budget_exists_is_a_201_and_its_alert_is_stored(
    client, user, django_capture_on_commit_callbacks
):
    client.post(URL, {"category": "Shopping", "amount": "0.01"}, format="json")

    spend_huge(client, times=3, capture=django_capture_on_commit_callbacks)

    assert Budget.objects.get(user=user).alert_level == 110
    alert = Notification.objects.get(user=user, type="budget_alert")
    assert (alert.data["level"], alert.data["spent"]) == ("severe", "9999999999.99")
    assert client.get(URL).json()["results"][0]["spent"] == "29999999999.97"


def test_patching_a_budget_under_huge_spending_answers_200(client, user):
    spend_huge(client)
    budget = client.post(URL, {"category": "Shopping", "amount": "1.00"}, format="json").json()

    patched = client.patch(f"{URL}/{budget['id']}", {"amount": "0.01"}, format="json")

    assert patched.status_code == 200, patched.content
    assert Budget.objects.get(pk=budget["id"]).amount == Decimal("0.01")


def test_renewal_stores_a_huge_spent_sum(client, user, time_machine):
    spend_huge(client)
    budget = client.post(URL, {"category": "Shopping", "amount": "0.01"}, format="json").json()

    time_machine.move_to(datetime.datetime(2026, 4, 2, 12, tzinfo=datetime.UTC), tick=False)
    renewed = budget_renew(budget=Budget.objects.get(pk=budget["id"]))

    assert renewed.periods_renewed == 1
    period = BudgetPeriod.objects.get(budget_id=budget["id"])
    assert period.spent == Decimal("19999999999.98")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, user)['access']}")  # the old token expired
    history = client.get(f"{URL}/{budget['id']}/history")
    assert history.status_code == 200, history.content
    assert history.json()["results"][0]["percentage"] == 9999999999.9


def test_budget_amount_over_twelve_digits_is_a_400(client):
    response = client.post(URL, {"category": "Shopping", "amount": "12345678901.00"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "amount"
    assert Budget.objects.count() == 0


def test_catch_up_renews_at_most_36_periods_per_request_and_says_so(client, user):
    budget = BudgetFactory(
        user=user, start_date=datetime.date(1990, 1, 1), end_date=datetime.date(1990, 1, 31), amount=Decimal("10")
    )

    first = client.post(f"{URL}/{budget.pk}/renew", {"catch_up": True}, format="json")

    assert first.status_code == 200, first.content
    assert (first.json()["periods_renewed"], first.json()["caught_up"]) == (CATCH_UP_LIMIT, False)
    assert first.json()["start_date"] == "1993-01-01"
    assert BudgetPeriod.objects.filter(budget=budget).count() == CATCH_UP_LIMIT
    while not (last := client.post(f"{URL}/{budget.pk}/renew", {"catch_up": True}, format="json").json())["caught_up"]:
        assert last["periods_renewed"] == CATCH_UP_LIMIT
    assert last["start_date"] == "2026-03-01"
    assert BudgetPeriod.objects.filter(budget=budget).count() == (2026 - 1990) * 12 + 2


def test_a_single_renewal_reports_one_period(client, user):
    budget = BudgetFactory(
        user=user, start_date=datetime.date(2026, 2, 1), end_date=datetime.date(2026, 2, 28), amount=Decimal("10")
    )

    response = client.post(f"{URL}/{budget.pk}/renew", {}, format="json")

    assert response.status_code == 200
    assert (response.json()["periods_renewed"], response.json()["caught_up"]) == (1, True)


def test_nightly_renewal_catches_up_in_bounded_steps(user):
    budget = BudgetFactory(
        user=user, start_date=datetime.date(2000, 1, 1), end_date=datetime.date(2000, 1, 31), amount=Decimal("10")
    )

    assert renew_due_budgets(today=datetime.date(2026, 3, 15)) == 1

    budget.refresh_from_db()
    assert budget.start_date == datetime.date(2026, 3, 1)
    assert BudgetPeriod.objects.filter(budget=budget).count() == 26 * 12 + 2
