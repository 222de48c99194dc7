"""Reports against a hand-computed fixture (user in USD):

April 2026: Income -2000 (checking); Groceries 100 (checking) + 50 (card);
Shopping 80 and its refund -30; a 500 transfer between the two accounts and
a 7.00 adjustment (never counted); EUR 40 Travel (no amount in USD:
unconverted); a deleted 999 Groceries row. May 2026: Income -1000,
Groceries 60. Another user's 300 Groceries in April."""

import datetime
from decimal import Decimal

import pytest

from ledger.models import Transaction
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db

D = datetime.date
SPENDING = "/api/v1/reports/spending"
CASHFLOW = "/api/v1/reports/cashflow"
TRENDS = "/api/v1/reports/trends"
RANGE = {"since": "2026-04-01", "until": "2026-05-31"}


@pytest.fixture
def ledger(user, other_user):
    checking = AccountFactory(user=user, name="Checking", is_default=True)
    card = AccountFactory(user=user, name="Card", kind="credit_card")

    def tx(amount, day, category, account=checking, **kw):
        return TransactionFactory(user=user, account=account, amount=Decimal(amount), date=day, category=category, **kw)

    tx("-2000.00", D(2026, 4, 1), "Income")
    tx("100.00", D(2026, 4, 3), "Groceries")
    tx("50.00", D(2026, 4, 10), "Groceries", account=card)
    tx("80.00", D(2026, 4, 12), "Shopping")
    tx("-30.00", D(2026, 4, 20), "Shopping")
    tx("500.00", D(2026, 4, 15), "Transfers", kind=Transaction.Kind.TRANSFER)
    tx("-500.00", D(2026, 4, 15), "Transfers", account=card, kind=Transaction.Kind.TRANSFER)
    tx("7.00", D(2026, 4, 16), "Groceries", kind=Transaction.Kind.ADJUSTMENT)
    TransactionFactory(user=user, currency="EUR", amount=Decimal("40.00"), date=D(2026, 4, 18), category="Travel")
    tx("999.00", D(2026, 4, 21), "Groceries", is_deleted=True)
    tx("-1000.00", D(2026, 5, 1), "Income")
    tx("60.00", D(2026, 5, 5), "Groceries")
    TransactionFactory(user=other_user, amount=Decimal("300.00"), date=D(2026, 4, 4), category="Groceries")
    return {"checking": checking, "card": card}


def test_spending_by_category_per_month(auth_client, ledger):
    body = auth_client.get(SPENDING, RANGE).json()

    assert body["currency"] == "USD"
    assert body["periods"] == [
        {
            "period": "2026-04-01",
            "total": "200.00",
            "groups": [
                {"key": "Groceries", "amount": "150.00", "count": 2},
                {"key": "Shopping", "amount": "50.00", "count": 2},
            ],
        },
        {"period": "2026-05-01", "total": "60.00", "groups": [{"key": "Groceries", "amount": "60.00", "count": 1}]},
    ]
    assert body["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "40.00"}]


def test_spending_by_account_and_filtered_to_one_account(auth_client, ledger):
    by_account = auth_client.get(SPENDING, {**RANGE, "group_by": "account", "until": "2026-04-30"}).json()
    card_only = auth_client.get(SPENDING, {**RANGE, "account": str(ledger["card"].id)}).json()

    assert by_account["periods"][0]["groups"] == [
        {"key": "Checking", "amount": "150.00", "count": 3},
        {"key": "Card", "amount": "50.00", "count": 1},
    ]
    assert card_only["periods"] == [
        {"period": "2026-04-01", "total": "50.00", "groups": [{"key": "Groceries", "amount": "50.00", "count": 1}]}
    ]
    assert card_only["unconverted"] == []


def test_cashflow_income_spending_net_and_savings_rate(auth_client, ledger):
    body = auth_client.get(CASHFLOW, RANGE).json()

    assert body["periods"] == [
        {"period": "2026-04-01", "income": "2000.00", "spending": "200.00", "net": "1800.00", "savings_rate": "90.0"},
        {"period": "2026-05-01", "income": "1000.00", "spending": "60.00", "net": "940.00", "savings_rate": "94.0"},
    ]


def test_trends_against_previous_month_and_three_month_average(auth_client, ledger):
    body = auth_client.get(TRENDS, {"until": "2026-05-31"}).json()

    assert body["period"] == "2026-05-01"
    assert body["categories"][:2] == [
        {
            "key": "Groceries",
            "amount": "60.00",
            "previous": "150.00",
            "average_3": "50.00",
            "change": "-90.00",
            "change_vs_average": "10.00",
        },
        {
            "key": "Shopping",
            "amount": "0.00",
            "previous": "50.00",
            "average_3": "16.67",
            "change": "-50.00",
            "change_vs_average": "-16.67",
        },
    ]


def test_cashflow_as_csv(auth_client, ledger):
    response = auth_client.get(CASHFLOW, {**RANGE, "format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().splitlines() == [
        "period,income,spending,net,savings_rate",
        "2026-04-01,2000.00,200.00,1800.00,90.0",
        "2026-05-01,1000.00,60.00,940.00,94.0",
    ]


def test_another_users_account_is_404(other_client, ledger):
    response = other_client.get(SPENDING, {"account": str(ledger["card"].id)})

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize(
    ("url", "params", "attr"),
    [
        (SPENDING, {"since": "2026-05-01", "until": "2026-04-01"}, "since"),
        (CASHFLOW, {"since": "2010-01-01", "until": "2026-04-01"}, "until"),
        (SPENDING, {"group_by": "planet"}, "group_by"),
        (CASHFLOW, {"interval": "fortnight"}, "interval"),
        (TRENDS, {"account": "not-a-uuid"}, "account.0"),
        (SPENDING, {"limit": "0"}, "limit"),
        (SPENDING, {"limit": "1001"}, "limit"),
    ],
)
def test_bad_input_is_400_in_the_error_shape(auth_client, url, params, attr):
    response = auth_client.get(url, params)

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == attr


def test_split_lines_count_by_their_own_category_and_converted_rows_count_in_base(auth_client, user):
    # June 2026: a 90.00 Shopping row split 40.00 Groceries / 50.00 Shopping; EUR 100.00
    # Travel on 2026-06-02 at 1.08 USD per EUR = 108.00; a 20.00 EUR Groceries line of a
    # split EUR 30.00 row (10.00 Travel) converts at the parent's rate: 21.60 and 10.80.
    from ledger.models import ExchangeRate
    from ledger.transactions.splits import transaction_splits_replace

    ExchangeRate.objects.create(currency="USD", date=D(2026, 6, 2), rate=Decimal("1.08"), source="ecb_history")
    euro = AccountFactory(user=user, name="Euro", currency="EUR")
    parent = TransactionFactory(user=user, amount=Decimal("90.00"), date=D(2026, 6, 3), category="Shopping")
    transaction_splits_replace(
        transaction=parent,
        user=user,
        lines=[
            {"amount": Decimal("40.00"), "category": "Groceries"},
            {"amount": Decimal("50.00"), "category": "Shopping"},
        ],
    )
    TransactionFactory(
        user=user, account=euro, currency="EUR", amount=Decimal("100.00"), date=D(2026, 6, 2), category="Travel"
    )
    euro_split = TransactionFactory(
        user=user, account=euro, currency="EUR", amount=Decimal("30.00"), date=D(2026, 6, 2), category="Travel"
    )
    transaction_splits_replace(
        transaction=euro_split,
        user=user,
        lines=[
            {"amount": Decimal("20.00"), "category": "Groceries"},
            {"amount": Decimal("10.00"), "category": "Travel"},
        ],
    )

    body = auth_client.get(SPENDING, {"since": "2026-06-01", "until": "2026-06-30"}).json()

    assert body["periods"] == [
        {
            "period": "2026-06-01",
            "total": "230.40",
            "groups": [
                {"key": "Travel", "amount": "118.80", "count": 2},
                {"key": "Groceries", "amount": "61.60", "count": 2},
                {"key": "Shopping", "amount": "50.00", "count": 1},
            ],
        }
    ]
    assert body["unconverted"] == []


def test_spending_by_tag_counts_a_row_under_each_of_its_tags_and_once_in_the_total(auth_client, user, ledger):
    from ledger.models import Tag

    family, work = Tag.objects.create(user=user, name="family"), Tag.objects.create(user=user, name="work")
    april = Transaction.objects.filter(user=user, date__month=4, kind="standard", is_deleted=False)
    april.get(amount=Decimal("100.00")).tags.add(family)
    april.get(amount=Decimal("80.00")).tags.add(family, work)

    body = auth_client.get(SPENDING, {**RANGE, "group_by": "tag"}).json()

    # April: family 100 + 80; work 80; untagged 50 - 30. The total is April's spending, 200, not 280.
    assert body["periods"] == [
        {
            "period": "2026-04-01",
            "total": "200.00",
            "groups": [
                {"key": "family", "amount": "180.00", "count": 2},
                {"key": "work", "amount": "80.00", "count": 1},
                {"key": None, "amount": "20.00", "count": 2},
            ],
        },
        {"period": "2026-05-01", "total": "60.00", "groups": [{"key": None, "amount": "60.00", "count": 1}]},
    ]
    assert body["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "40.00"}]


def test_spending_counts_off_budget_accounts(auth_client, user, ledger):
    # A report is what happened to the money: an off-budget account's spending shows (budgets ignore it).
    tracking = AccountFactory(user=user, name="Tracking", on_budget=False)
    TransactionFactory(user=user, account=tracking, amount=Decimal("25.00"), date=D(2026, 5, 9), category="Groceries")

    def may(query):
        periods = auth_client.get(SPENDING, query).json()["periods"]
        return next(p["groups"] for p in periods if p["period"] == "2026-05-01")

    assert may(RANGE) == [{"key": "Groceries", "amount": "85.00", "count": 2}]
    assert may({**RANGE, "account": str(tracking.pk)}) == [{"key": "Groceries", "amount": "25.00", "count": 1}]
