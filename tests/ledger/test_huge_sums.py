"""Reads over many amounts of 9,999,999,999.99 answer 200: a sum never overflows the field it is
served in (issue 13: decimal.InvalidOperation on budgets, status, comparison, suggestions)."""

import pytest

pytestmark = pytest.mark.django_db

HUGE = "9999999999.99"


@pytest.fixture
def huge_ledger(auth_client):
    auth_client.raise_request_exception = False
    for category, amount in [("Shopping", HUGE)] * 12 + [("Income", "-0.01")]:
        response = auth_client.post(
            "/api/v1/transactions",
            {"amount": amount, "date": "2026-03-10", "merchant_raw": "Yacht", "category": category,
             "allow_duplicate": True},
            format="json",
        )  # fmt: skip
        assert response.status_code == 201, response.content
    return auth_client


def test_reports_and_stats_over_huge_sums_answer_200(huge_ledger):
    account = huge_ledger.get("/api/v1/accounts").json()["results"][0]["id"]
    window = {"since": "2026-03-01", "until": "2026-03-31"}
    answers = {
        url: huge_ledger.get(url, params)
        for url, params in [
            ("/api/v1/reports/spending", window),
            ("/api/v1/reports/cashflow", window),
            ("/api/v1/reports/trends", {"until": "2026-03-31"}),
            ("/api/v1/merchants/stats", {"date_from": "2026-03-01", "date_to": "2026-03-31"}),
            (f"/api/v1/accounts/{account}/balances", window),
            ("/api/v1/reports/net-worth", {}),
            ("/api/v1/accounts", {}),
            ("/api/v1/transactions", {}),
        ]
    }

    assert {url: r.status_code for url, r in answers.items()} == dict.fromkeys(answers, 200)
    cashflow = answers["/api/v1/reports/cashflow"].json()["periods"][0]
    assert cashflow["spending"] == "119999999999.88"
    assert cashflow["savings_rate"] == "-9999999.9"  # clamped
    assert answers["/api/v1/reports/spending"].json()["periods"][0]["total"] == "119999999999.88"
