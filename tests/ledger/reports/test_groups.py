"""Reports by merchant and account, trends of both dimensions and what each
report left out, against a hand-computed fixture (user in USD):

June 2026: Income -100.00 and EUR Income -50.00 (no rate: unconverted);
Corner Shop (a merchant) 30.00 Groceries and 20.00 Shopping split 5.00
Groceries / 15.00 Shopping; a row without a merchant whose text is "Corner
Shop" 10.00 Groceries; "Kiosk" 7.00 Shopping on the card; EUR 40.00 Travel
(unconverted). May 2026: Corner Shop 12.00 Groceries."""

import datetime
from decimal import Decimal

import pytest

from ledger.transactions.splits import transaction_splits_replace
from tests.ledger.factories import AccountFactory, TransactionFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db

D = datetime.date
JUNE = {"since": "2026-06-01", "until": "2026-06-30"}


@pytest.fixture
def ledger(user):
    checking = AccountFactory(user=user, name="Checking", is_default=True)
    card = AccountFactory(user=user, name="Card", kind="credit_card")
    shop = MerchantFactory(canonical_name="Corner Shop")

    def tx(amount, day, category, account=checking, **kw):
        return TransactionFactory(user=user, account=account, amount=Decimal(amount), date=day, category=category, **kw)

    tx("-100.00", D(2026, 6, 1), "Income")
    TransactionFactory(user=user, currency="EUR", amount=Decimal("-50.00"), date=D(2026, 6, 2), category="Income")
    tx("30.00", D(2026, 6, 3), "Groceries", merchant=shop, merchant_raw="CORNER SHOP 123")
    split = tx("20.00", D(2026, 6, 5), "Shopping", merchant=shop, merchant_raw="CORNER SHOP 456")
    transaction_splits_replace(
        transaction=split,
        user=user,
        lines=[
            {"amount": Decimal("5.00"), "category": "Groceries"},
            {"amount": Decimal("15.00"), "category": "Shopping"},
        ],
    )
    tx("10.00", D(2026, 6, 7), "Groceries", merchant_raw="Corner Shop")
    tx("7.00", D(2026, 6, 8), "Shopping", account=card, merchant_raw="Kiosk")
    TransactionFactory(
        user=user, currency="EUR", amount=Decimal("40.00"), date=D(2026, 6, 9), category="Travel", merchant_raw="Café"
    )
    tx("12.00", D(2026, 5, 12), "Groceries", merchant=shop, merchant_raw="CORNER SHOP 123")
    return {"checking": checking, "card": card}


def test_spending_by_merchant_names_the_merchant_and_merges_its_text_rows_and_split_lines(auth_client, ledger):
    body = auth_client.get("/api/v1/reports/spending", {**JUNE, "group_by": "merchant"}).json()

    # Corner Shop: 30 + 5 + 15 (two lines) + 10 (the text row) = 60 over 4 lines.
    assert body["periods"] == [
        {
            "period": "2026-06-01",
            "total": "67.00",
            "groups": [
                {"key": "Corner Shop", "amount": "60.00", "count": 4},
                {"key": "Kiosk", "amount": "7.00", "count": 1},
            ],
        }
    ]
    assert body["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "40.00"}]


def test_spending_by_account_and_by_week(auth_client, ledger):
    by_account = auth_client.get("/api/v1/reports/spending", {**JUNE, "group_by": "account"}).json()
    weekly = auth_client.get("/api/v1/reports/spending", {**JUNE, "interval": "week"}).json()

    assert by_account["periods"][0]["groups"] == [
        {"key": "Checking", "amount": "60.00", "count": 4},
        {"key": "Card", "amount": "7.00", "count": 1},
    ]
    # Weeks start on Monday: 2026-06-01 (30 + 5 + 10 Groceries, 15 Shopping) and 2026-06-08 (the
    # Kiosk's 7.00; the EUR row of 06-09 is left out).
    assert weekly["periods"] == [
        {
            "period": "2026-06-01",
            "total": "60.00",
            "groups": [
                {"key": "Groceries", "amount": "45.00", "count": 3},
                {"key": "Shopping", "amount": "15.00", "count": 1},
            ],
        },
        {"period": "2026-06-08", "total": "7.00", "groups": [{"key": "Shopping", "amount": "7.00", "count": 1}]},
    ]
    assert weekly["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "40.00"}]


def test_cashflow_lists_unconverted_income_and_spending_together(auth_client, ledger):
    body = auth_client.get("/api/v1/reports/cashflow", {"since": "2026-05-01", "until": "2026-06-30"}).json()

    assert body["periods"] == [
        {"period": "2026-05-01", "income": "0.00", "spending": "12.00", "net": "-12.00", "savings_rate": None},
        {"period": "2026-06-01", "income": "100.00", "spending": "67.00", "net": "33.00", "savings_rate": "33.0"},
    ]
    # EUR: -50.00 of income and 40.00 of spending, in euros.
    assert body["unconverted"] == [{"currency": "EUR", "count": 2, "amount": "-10.00"}]


def test_trends_of_categories_and_merchants_list_what_was_left_out_once(auth_client, ledger):
    body = auth_client.get("/api/v1/reports/trends", {"until": "2026-06-30"}).json()

    # Against May (12.00 at Corner Shop, Groceries) and the average of March to May (4.00).
    assert body["categories"] == [
        {"key": "Groceries", "amount": "45.00", "previous": "12.00", "average_3": "4.00", "change": "33.00",
         "change_vs_average": "41.00"},
        {"key": "Shopping", "amount": "22.00", "previous": "0.00", "average_3": "0.00", "change": "22.00",
         "change_vs_average": "22.00"},
    ]  # fmt: skip
    assert body["merchants"] == [
        {"key": "Corner Shop", "amount": "60.00", "previous": "12.00", "average_3": "4.00", "change": "48.00",
         "change_vs_average": "56.00"},
        {"key": "Kiosk", "amount": "7.00", "previous": "0.00", "average_3": "0.00", "change": "7.00",
         "change_vs_average": "7.00"},
    ]  # fmt: skip
    assert body["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "40.00"}]


def test_an_account_filter_reads_only_that_accounts_rows(auth_client, ledger):
    body = auth_client.get(
        "/api/v1/reports/spending", {**JUNE, "group_by": "merchant", "account": str(ledger["card"].pk)}
    ).json()

    assert body["periods"] == [
        {"period": "2026-06-01", "total": "7.00", "groups": [{"key": "Kiosk", "amount": "7.00", "count": 1}]}
    ]
    assert body["unconverted"] == []


def test_spending_limit_sums_the_smaller_groups_of_a_period_into_other(auth_client, ledger):
    one = auth_client.get("/api/v1/reports/spending", {**JUNE, "group_by": "merchant", "limit": 1}).json()
    two = auth_client.get("/api/v1/reports/spending", {**JUNE, "group_by": "merchant", "limit": 2}).json()

    # Corner Shop (60.00) is the largest; Kiosk's 7.00 is the other one. The total counts both.
    assert one["periods"] == [
        {
            "period": "2026-06-01",
            "total": "67.00",
            "groups": [{"key": "Corner Shop", "amount": "60.00", "count": 4}],
            "other": {"amount": "7.00", "count": 1, "groups": 1},
        }
    ]
    assert two["periods"][0]["groups"] == [
        {"key": "Corner Shop", "amount": "60.00", "count": 4},
        {"key": "Kiosk", "amount": "7.00", "count": 1},
    ]
    assert two["periods"][0]["other"] is None
    assert one["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "40.00"}]


def test_spending_as_csv_by_merchant_with_and_without_limit(auth_client, ledger):
    every = auth_client.get("/api/v1/reports/spending", {**JUNE, "group_by": "merchant", "format": "csv"})
    top = auth_client.get("/api/v1/reports/spending", {**JUNE, "group_by": "merchant", "format": "csv", "limit": 1})

    assert every["Content-Type"].startswith("text/csv")
    assert every.content.decode().splitlines() == [
        "period,key,amount,count",
        "2026-06-01,Corner Shop,60.00,4",
        "2026-06-01,Kiosk,7.00,1",
    ]
    assert top.content.decode().splitlines() == [
        "period,key,amount,count",
        "2026-06-01,Corner Shop,60.00,4",
        "2026-06-01,other 1 groups,7.00,1",
    ]


def test_spending_groups_of_equal_amounts_go_by_name_and_an_indented_answer_is_the_same(auth_client, user, ledger):
    # May: Corner Shop 12.00; two more rows of 12.00 without a merchant, "Zoo" and "Ant".
    for text in ("Zoo", "Ant"):
        TransactionFactory(user=user, account=ledger["checking"], amount=Decimal("12.00"), date=D(2026, 5, 20),
                           category="Shopping", merchant_raw=text)  # fmt: skip
    query = {"since": "2026-05-01", "until": "2026-05-31", "group_by": "merchant"}

    plain = auth_client.get("/api/v1/reports/spending", query)
    indented = auth_client.get("/api/v1/reports/spending", query, HTTP_ACCEPT="application/json; indent=2")

    assert [g["key"] for g in plain.json()["periods"][0]["groups"]] == ["Ant", "Corner Shop", "Zoo"]
    assert b"\n  " in indented.content
    assert indented.json() == plain.json()
