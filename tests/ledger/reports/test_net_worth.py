"""reports/net-worth: the account filter, per-account balances and CSV, against
hand-computed figures (user in USD).

Checking (USD, opening 1000) spends 100 in March; Visa (card, USD) owes 200
from February; Hidden (USD, 5000, include_in_net_worth off); Euro savings
(EUR, opening 100) with 1 EUR = 1.25 USD on 2026-03-31 only, so February has
no rate for it."""

import csv
import datetime
import io
import uuid
from decimal import Decimal

import pytest

from ledger.models import ExchangeRate
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db

D = datetime.date
NET_WORTH = "/api/v1/reports/net-worth"
RANGE = {"since": "2026-02-01", "until": "2026-03-31"}


@pytest.fixture
def accounts(user, other_user):
    checking = AccountFactory(user=user, name="Checking", opening_balance=Decimal("1000.00"), is_default=True)
    card = AccountFactory(user=user, name="Visa", kind="credit_card")
    hidden = AccountFactory(user=user, name="Hidden", opening_balance=Decimal("5000.00"), include_in_net_worth=False)
    euro = AccountFactory(
        user=user, name="Euro savings", kind="savings", currency="EUR", opening_balance=Decimal("100")
    )
    TransactionFactory(user=user, account=card, amount=Decimal("200.00"), date=D(2026, 2, 10))
    TransactionFactory(user=user, account=checking, amount=Decimal("100.00"), date=D(2026, 3, 10))
    TransactionFactory(user=user, account=checking, amount=Decimal("999.00"), date=D(2026, 3, 11), is_deleted=True)
    ExchangeRate.objects.create(currency="USD", date=D(2026, 3, 31), rate=Decimal("1.25"), source="ecb_history")
    other = AccountFactory(user=other_user, name="Not yours", opening_balance=Decimal("7.00"))
    return {"checking": checking, "card": card, "hidden": hidden, "euro": euro, "other": other}


def test_totals_per_currency_and_in_base(auth_client, accounts):
    body = auth_client.get(NET_WORTH, RANGE).json()

    february, march = body["results"]
    assert february["currencies"] == [
        {"currency": "EUR", "assets": "100.00", "liabilities": "0.00", "net_worth": "100.00"},
        {"currency": "USD", "assets": "1000.00", "liabilities": "200.00", "net_worth": "800.00"},
    ]
    # No EUR rate at February's end (nor the 7 days before): left out of base and said so.
    assert february["base"] == {"currency": "USD", "assets": "1000.00", "liabilities": "200.00", "net_worth": "800.00"}
    assert february["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "100.00"}]
    assert march["base"] == {"currency": "USD", "assets": "1025.00", "liabilities": "200.00", "net_worth": "825.00"}
    assert march["unconverted"] == []
    assert "accounts" not in march


def test_account_filter_picks_exactly_those_accounts(auth_client, accounts):
    # An explicit choice overrides include_in_net_worth.
    query = {**RANGE, "account": [str(accounts["card"].pk), str(accounts["hidden"].pk)]}
    march = auth_client.get(NET_WORTH, query).json()["results"][1]

    assert march["base"] == {"currency": "USD", "assets": "5000.00", "liabilities": "200.00", "net_worth": "4800.00"}


def test_per_account_balances_add_up_to_the_totals(auth_client, accounts):
    march = auth_client.get(NET_WORTH, {**RANGE, "per_account": "true"}).json()["results"][1]

    by_name = {a["name"]: a for a in march["accounts"]}
    assert set(by_name) == {"Checking", "Visa", "Euro savings"}
    assert by_name["Checking"]["balance"] == "900.00"
    assert by_name["Visa"]["balance"] == "-200.00"
    assert by_name["Euro savings"] == {
        "account": str(accounts["euro"].pk),
        "name": "Euro savings",
        "kind": "savings",
        "currency": "EUR",
        "balance": "100.00",
        "balance_base": "125.00",
    }
    assert sum(Decimal(a["balance_base"]) for a in march["accounts"]) == Decimal(march["base"]["net_worth"])


def test_per_account_without_a_rate_has_no_base_balance(auth_client, accounts):
    february = auth_client.get(NET_WORTH, {**RANGE, "per_account": "true"}).json()["results"][0]

    euro = next(a for a in february["accounts"] if a["currency"] == "EUR")
    assert euro["balance"] == "100.00" and euro["balance_base"] is None


def test_csv_totals_and_per_account_rows(auth_client, accounts):
    response = auth_client.get(NET_WORTH, {**RANGE, "format": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows == [
        {
            "period": "2026-02-01",
            "currency": "USD",
            "assets": "1000.00",
            "liabilities": "200.00",
            "net_worth": "800.00",
        },
        {
            "period": "2026-03-01",
            "currency": "USD",
            "assets": "1025.00",
            "liabilities": "200.00",
            "net_worth": "825.00",
        },
        {"period": "2026-02-01", "currency": "unconverted EUR", "assets": "", "liabilities": "", "net_worth": "100.00"},
    ]

    response = auth_client.get(NET_WORTH, {**RANGE, "format": "csv", "per_account": "true"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 6  # three accounts, two months
    assert {r["name"]: r["balance"] for r in rows if r["period"] == "2026-03-01"} == {
        "Checking": "900.00",
        "Visa": "-200.00",
        "Euro savings": "100.00",
    }


def test_another_users_or_unknown_account_is_a_404(auth_client, accounts):
    for account_id in (accounts["other"].pk, uuid.uuid4()):
        response = auth_client.get(NET_WORTH, {**RANGE, "account": str(account_id)})
        assert response.status_code == 404, response.content
        assert response.json()["errors"][0]["code"] == "not_found"


def test_bad_query_is_a_400(auth_client, accounts):
    for query in ({"since": "2026-04-01", "until": "2026-03-01"}, {"interval": "year"}, {"account": "x"}):
        response = auth_client.get(NET_WORTH, query)
        assert response.status_code == 400, (query, response.content)


def test_an_account_counts_only_from_its_opening_date(auth_client, user):
    # Opened 2026-03-15 with 300.00: February's net worth holds nothing of it, March's end holds it all.
    AccountFactory(
        user=user, name="New savings", kind="savings", opening_balance=Decimal("300.00"), opening_date=D(2026, 3, 15)
    )
    card = AccountFactory(
        user=user, name="New card", kind="credit_card", opening_balance=Decimal("-50.00"), opening_date=D(2026, 3, 20)
    )
    # A row dated before the card's opening date still counts from where it falls.
    TransactionFactory(user=user, account=card, amount=Decimal("10.00"), date=D(2026, 2, 27))

    february, march = auth_client.get(NET_WORTH, RANGE).json()["results"]

    assert february["base"] == {"currency": "USD", "assets": "0.00", "liabilities": "60.00", "net_worth": "-60.00"}
    assert march["base"] == {"currency": "USD", "assets": "300.00", "liabilities": "60.00", "net_worth": "240.00"}
