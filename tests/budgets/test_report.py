"""reports/budgets against a hand-computed fixture. The user is in USD; today
is 2026-05-20, so months=3 covers 2026-03-01..2026-05-20.

Groceries: closed periods February (100, outside the window), March (100),
April (150, its stored spent a stale 999.00) and the current May (200).
Shopping: only the current May (100).

March Groceries: 70.00 + EUR 10.00 at 1.08 (ECB, 2026-03-02) = 10.80 -> 80.80,
80.8 % (at risk).
April Groceries: 100.00 (checking) + 80.00 (card) - 30.00 (refund) + the
40.00 Groceries line of a 90.00 split (its 50.00 Shopping line is April's,
outside Shopping's only period) = 190.00, 126.7 % (over). Never counted: a
500.00 transfer leg, a 7.00 adjustment and a deleted 999.00 row.
May Groceries: 50.00, 25.0 % (healthy); EUR 20.00 on 2026-05-05 has no rate
within 7 days: left out and listed. May Shopping: 85.00, 85.0 % (at risk).
Totals: budgeted 100 + 150 + 200 + 100 = 550.00; spent 80.80 + 190.00 +
50.00 + 85.00 = 405.80; 405.80 / 550 = 73.78 % -> 73.8; one period over."""

import datetime
from decimal import Decimal

import pytest
import time_machine

from ledger.models import ExchangeRate, Transaction
from ledger.transactions.splits import transaction_splits_replace
from tests.budgets.factories import BudgetFactory, BudgetPeriodFactory
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db

D = datetime.date
URL = "/api/v1/reports/budgets"


@pytest.fixture(autouse=True)
def today():
    # Autouse: travels before auth_client signs in, so the token and "today" agree.
    with time_machine.travel(datetime.datetime(2026, 5, 20, 12, tzinfo=datetime.UTC), tick=False):
        yield D(2026, 5, 20)


@pytest.fixture
def ledger(user, other_user):
    ExchangeRate.objects.create(currency="USD", date=D(2026, 3, 2), rate=Decimal("1.08"), source="ecb_history")
    checking = AccountFactory(user=user, name="Checking", is_default=True)
    card = AccountFactory(user=user, name="Card", kind="credit_card")
    euro = AccountFactory(user=user, name="Euro", currency="EUR")

    groceries = BudgetFactory(
        user=user, category="Groceries", amount=Decimal("200.00"), start_date=D(2026, 5, 1), end_date=D(2026, 5, 31)
    )
    for start, end, amount in [
        (D(2026, 2, 1), D(2026, 2, 28), "100.00"),
        (D(2026, 3, 1), D(2026, 3, 31), "100.00"),
        (D(2026, 4, 1), D(2026, 4, 30), "150.00"),
    ]:
        BudgetPeriodFactory(budget=groceries, start_date=start, end_date=end, amount=Decimal(amount), spent=999)
    shopping = BudgetFactory(
        user=user, category="Shopping", amount=Decimal("100.00"), start_date=D(2026, 5, 1), end_date=D(2026, 5, 31)
    )
    BudgetFactory(user=other_user, category="Groceries", start_date=D(2026, 5, 1), end_date=D(2026, 5, 31))

    def tx(amount, day, category="Groceries", account=checking, **kw):
        return TransactionFactory(
            user=user,
            account=account,
            currency=account.currency,
            amount=Decimal(amount),
            date=day,
            category=category,
            **kw,
        )

    tx("40.00", D(2026, 2, 10))
    tx("70.00", D(2026, 3, 5))
    tx("10.00", D(2026, 3, 2), account=euro)
    tx("100.00", D(2026, 4, 3))
    tx("80.00", D(2026, 4, 8), account=card)
    tx("-30.00", D(2026, 4, 20))
    split = tx("90.00", D(2026, 4, 10), category="Shopping")
    transaction_splits_replace(
        transaction=split,
        user=user,
        lines=[
            {"amount": Decimal("40.00"), "category": "Groceries"},
            {"amount": Decimal("50.00"), "category": "Shopping"},
        ],
    )
    tx("500.00", D(2026, 4, 15), kind=Transaction.Kind.TRANSFER)
    tx("7.00", D(2026, 4, 16), kind=Transaction.Kind.ADJUSTMENT)
    tx("999.00", D(2026, 4, 21), is_deleted=True)
    tx("50.00", D(2026, 5, 2))
    tx("20.00", D(2026, 5, 5), account=euro)
    tx("85.00", D(2026, 5, 6), category="Shopping")
    TransactionFactory(user=other_user, amount=Decimal("300.00"), date=D(2026, 5, 4), category="Groceries")
    return {"card": card, "groceries": groceries, "shopping": shopping}


def _period(start, end, budget, spent, remaining, percentage, status, is_current=False):
    return {
        "start_date": start,
        "end_date": end,
        "is_current": is_current,
        "budget": budget,
        "spent": spent,
        "remaining": remaining,
        "percentage": percentage,
        "status": status,
    }


def test_each_budgets_periods_with_spent_recomputed_from_the_ledger(auth_client, ledger):
    body = auth_client.get(URL, {"months": 3}).json()

    assert (body["currency"], body["months"], body["since"], body["until"]) == ("USD", 3, "2026-03-01", "2026-05-20")
    assert body["budgets"] == [
        {
            "id": str(ledger["groceries"].id),
            "category": "Groceries",
            "periods": [
                _period("2026-03-01", "2026-03-31", "100.00", "80.80", "19.20", 80.8, "at_risk"),
                _period("2026-04-01", "2026-04-30", "150.00", "190.00", "-40.00", 126.7, "over"),
                _period("2026-05-01", "2026-05-31", "200.00", "50.00", "150.00", 25.0, "healthy", is_current=True),
            ],
        },
        {
            "id": str(ledger["shopping"].id),
            "category": "Shopping",
            "periods": [
                _period("2026-05-01", "2026-05-31", "100.00", "85.00", "15.00", 85.0, "at_risk", is_current=True)
            ],
        },
    ]
    assert body["totals"] == {"budgeted": "550.00", "spent": "405.80", "percentage": 73.8, "periods_over": 1}
    assert body["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "20.00"}]


def test_the_default_window_is_twelve_months_and_reaches_february(auth_client, ledger):
    body = auth_client.get(URL).json()

    assert (body["months"], body["since"]) == (12, "2025-06-01")
    february = body["budgets"][0]["periods"][0]
    assert (february["start_date"], february["spent"], february["status"]) == ("2026-02-01", "40.00", "healthy")


def test_an_account_filter_counts_only_that_accounts_rows(auth_client, ledger):
    body = auth_client.get(URL, {"months": 3, "account": str(ledger["card"].id)}).json()

    spent = {(b["category"], p["start_date"]): p["spent"] for b in body["budgets"] for p in b["periods"]}
    assert spent == {
        ("Groceries", "2026-03-01"): "0.00",
        ("Groceries", "2026-04-01"): "80.00",
        ("Groceries", "2026-05-01"): "0.00",
        ("Shopping", "2026-05-01"): "0.00",
    }
    assert body["unconverted"] == []


def test_as_csv_one_row_per_period(auth_client, ledger):
    response = auth_client.get(URL, {"months": 3, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines() == [
        "category,start_date,end_date,is_current,budget,spent,remaining,percentage,status",
        "Groceries,2026-03-01,2026-03-31,False,100.00,80.80,19.20,80.8,at_risk",
        "Groceries,2026-04-01,2026-04-30,False,150.00,190.00,-40.00,126.7,over",
        "Groceries,2026-05-01,2026-05-31,True,200.00,50.00,150.00,25.0,healthy",
        "Shopping,2026-05-01,2026-05-31,True,100.00,85.00,15.00,85.0,at_risk",
    ]


def test_another_users_report_shows_only_their_budget_and_rows(other_client, ledger):
    body = other_client.get(URL, {"months": 1}).json()

    assert [b["category"] for b in body["budgets"]] == ["Groceries"]
    assert body["budgets"][0]["periods"][0]["spent"] == "300.00"


def test_another_users_account_is_404(other_client, ledger):
    response = other_client.get(URL, {"account": str(ledger["card"].id)})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"months": "0"}, "months"),
        ({"months": "121"}, "months"),
        ({"months": "twelve"}, "months"),
        ({"account": "not-a-uuid"}, "account.0"),
    ],
)
def test_bad_input_is_400_in_the_error_shape(auth_client, params, attr):
    response = auth_client.get(URL, params)

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == attr


def test_an_off_budget_account_never_counts(auth_client, user, ledger):
    loan = AccountFactory(user=user, name="Car loan", kind="loan", on_budget=False)
    TransactionFactory(user=user, account=loan, amount=Decimal("1000.00"), date=D(2026, 4, 12), category="Groceries")

    everything = auth_client.get(URL, {"months": 3}).json()
    loan_only = auth_client.get(URL, {"months": 3, "account": str(loan.id)}).json()

    april = everything["budgets"][0]["periods"][1]
    assert (april["start_date"], april["spent"], april["status"]) == ("2026-04-01", "190.00", "over")
    assert everything["totals"]["spent"] == "405.80"
    assert {p["spent"] for b in loan_only["budgets"] for p in b["periods"]} == {"0.00"}
    # The live budget figures agree on the running period.
    [groceries] = [b for b in auth_client.get("/api/v1/budgets").json()["results"] if b["category"] == "Groceries"]
    assert groceries["spent"] == everything["budgets"][0]["periods"][-1]["spent"] == "50.00"
