"""Dates are 1900-01-01..2100-12-31 on every input (issue 13)."""

import pytest

from budgets.models import Budget
from ledger.anomalies.services import transaction_score_anomaly
from ledger.models import Account, Transaction
from tests.ledger.factories import AccountFactory, PortfolioHoldingFactory

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = ["0001-01-01", "1899-12-31", "2101-01-01", "9999-12-31"]
RANGE_ERROR = "Dates must be between 1900-01-01 and 2100-12-31."


def first_error(response):
    return response.json()["errors"][0]


@pytest.fixture
def client(auth_client):
    auth_client.raise_request_exception = False
    return auth_client


@pytest.mark.parametrize("day", OUT_OF_RANGE)
def test_transaction_dates_out_of_range_are_a_400(client, day):
    response = client.post(
        "/api/v1/transactions", {"amount": "5.00", "date": day, "merchant_raw": "Tesco"}, format="json"
    )

    assert response.status_code == 400
    assert first_error(response) == {"code": "date_out_of_range", "detail": RANGE_ERROR, "attr": "date"}
    assert Transaction.objects.count() == 0


@pytest.mark.parametrize("day", ["1900-01-01", "2100-12-31"])
def test_the_bounds_themselves_are_accepted(client, day):
    response = client.post(
        "/api/v1/transactions", {"amount": "5.00", "date": day, "merchant_raw": "Tesco"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert Transaction.objects.get().date.isoformat() == day


def test_transaction_patch_date_out_of_range_is_a_400(client):
    created = client.post(
        "/api/v1/transactions", {"amount": "5.00", "date": "2026-01-01", "merchant_raw": "Tesco"}, format="json"
    ).json()

    response = client.patch(f"/api/v1/transactions/{created['id']}", {"date": "0001-01-01"}, format="json")

    assert response.status_code == 400
    assert first_error(response)["code"] == "date_out_of_range"
    assert Transaction.objects.get().date.isoformat() == "2026-01-01"


@pytest.mark.parametrize("field", ["start_date", "end_date"])
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_budget_dates_out_of_range_are_a_400(client, field, day):
    body = {"category": "Groceries", "amount": "100", "start_date": "2026-01-01", "end_date": "2026-01-31"}
    body[field] = day

    response = client.post("/api/v1/budgets", body, format="json")

    assert response.status_code == 400
    assert first_error(response)["attr"] == field
    assert first_error(response)["code"] == "date_out_of_range"
    assert Budget.objects.count() == 0


@pytest.mark.parametrize("month", ["0001-01", "0000-01", "9999-12", "1899-12"])
def test_budget_comparison_month_out_of_range_is_a_400(client, month):
    response = client.get("/api/v1/budgets/comparison", {"month": month})

    assert response.status_code == 400
    assert first_error(response)["attr"] == "month"


def test_budget_comparison_in_range_still_answers(client):
    assert client.get("/api/v1/budgets/comparison", {"month": "1900-01"}).status_code == 200


@pytest.mark.parametrize("param", ["since", "until"])
def test_transaction_filter_dates_out_of_range_are_a_400(client, param):
    response = client.get("/api/v1/transactions", {param: "0001-01-01"})

    assert response.status_code == 400
    assert first_error(response) == {"code": "date_out_of_range", "detail": RANGE_ERROR, "attr": param}


@pytest.mark.parametrize("url", ["/api/v1/reports/spending", "/api/v1/reports/cashflow", "/api/v1/merchants/stats"])
def test_report_query_dates_out_of_range_are_a_400(client, url):
    param = "date_from" if "merchants" in url else "since"

    response = client.get(url, {param: "0001-01-01"})

    assert response.status_code == 400
    assert first_error(response)["code"] == "date_out_of_range"


def test_account_balance_query_and_opening_date_are_bounded(client, user):
    account = AccountFactory(user=user)

    balances = client.get(f"/api/v1/accounts/{account.pk}/balances", {"since": "0001-01-01"})
    created = client.post(
        "/api/v1/accounts",
        {"name": "Old", "kind": "checking", "currency": "USD", "opening_date": "0001-01-01"},
        format="json",
    )

    assert balances.status_code == 400
    assert created.status_code == 400
    assert first_error(created)["attr"] == "opening_date"
    assert not Account.objects.filter(name="Old").exists()


def test_transfer_date_out_of_range_is_a_400(client, user):
    a, b = AccountFactory(user=user), AccountFactory(user=user)

    response = client.post(
        "/api/v1/transfers",
        {"from_account": str(a.pk), "to_account": str(b.pk), "amount": "5.00", "date": "9999-12-31"},
        format="json",
    )

    assert response.status_code == 400
    assert first_error(response)["attr"] == "date"
    assert Transaction.objects.count() == 0


def test_rule_date_conditions_out_of_range_are_a_400(client):
    rule = {
        "name": "ancient",
        "conditions": {"all": [{"field": "date", "op": "gte", "value": "0001-01-01"}]},
        "actions": [{"type": "set_category", "value": "Groceries"}],
    }

    refused = client.post("/api/v1/rules", rule, format="json")
    rule["conditions"]["all"][0]["value"] = "1900-01-01"
    accepted = client.post("/api/v1/rules", rule, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["attr"] == "conditions.all[0].value"
    assert RANGE_ERROR in refused.json()["errors"][0]["detail"]
    assert accepted.status_code == 201, accepted.content


def test_the_earliest_date_is_safe_for_anomaly_scoring(client, user):
    # A 0001-01-01 row made scoring fail (OverflowError); the bound keeps every stored date far from it.
    for amount in ("5.00", "6.00", "7.00", "500.00"):
        response = client.post(
            "/api/v1/transactions",
            {"amount": amount, "date": "1900-01-01", "merchant_raw": "Tesco", "allow_duplicate": True},
            format="json",
        )
        assert response.status_code == 201, response.content
    last = Transaction.objects.get(amount="500.00")

    transaction_score_anomaly(transaction_id=last.pk)

    last.refresh_from_db()
    assert last.anomaly_score is not None


@pytest.mark.parametrize("valued_at", ["0001-01-01T00:00:00Z", "9999-12-31T23:00:00Z", "1899-12-31T12:00:00Z"])
def test_portfolio_valuation_time_out_of_range_is_a_400(client, user, valued_at):
    holding = PortfolioHoldingFactory(user=user)

    response = client.post(
        f"/api/v1/portfolio/holdings/{holding.pk}/valuation", {"price": "10", "valued_at": valued_at}, format="json"
    )

    assert response.status_code == 400
    assert first_error(response) == {"code": "date_out_of_range", "detail": RANGE_ERROR, "attr": "valued_at"}
    holding.refresh_from_db()
    assert holding.valued_at is None
