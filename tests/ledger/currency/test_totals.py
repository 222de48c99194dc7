"""Totals in the base currency: a USD user with a EUR card and a GBP account
sees one Groceries budget in USD matching each day's ECB rates; every total
that left rows out lists them in `unconverted`; net worth, transfers and the
portfolio summary in the base currency. Rates: conftest (03-02: USD 1.08,
GBP 0.85, JPY 160; 03-03: USD 1.09, GBP 0.86; 03-04: USD 1.10; none after)."""

import datetime
from decimal import Decimal

import pytest

from budgets.models import Budget
from budgets.selectors import budget_comparison, budget_status
from ledger.books.selectors import net_worth_series
from ledger.models import SplitLine, Transaction
from ledger.portfolio.selectors import portfolio_summary
from ledger.reports.selectors import cashflow_report, spending_report
from ledger.transactions.splits import transaction_splits_replace
from tests.accounts.factories import UserFactory
from tests.ledger.factories import AccountFactory, PortfolioHoldingFactory, TransactionFactory
from workers.selectors import weekly_summary_build

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def traveller(rates):
    """A USD user with a EUR card, a GBP account and a USD checking account."""
    user = UserFactory(base_currency="USD")
    euro = AccountFactory(user=user, currency="EUR", name="Euro card", kind="credit_card")
    pound = AccountFactory(user=user, currency="GBP", name="UK current")
    dollar = AccountFactory(user=user, currency="USD", name="Checking")

    def spend(account, amount, day, category="Groceries", **extra):
        return TransactionFactory(
            user=user, account=account, currency=account.currency, amount=Decimal(amount), date=day,
            category=category, **extra,
        )  # fmt: skip

    spend(euro, "20.00", D(2026, 3, 2))  # x 1.08 = 21.60
    spend(euro, "10.00", D(2026, 3, 4))  # x 1.10 = 11.00
    spend(pound, "15.00", D(2026, 3, 3))  # x (1.09 / 0.86 = 1.2674418605) = 19.0116279075 -> 19.01
    spend(pound, "5.00", D(2026, 3, 2))  # x (1.08 / 0.85 = 1.2705882353) = 6.3529411765 -> 6.35
    spend(dollar, "3.33", D(2026, 3, 3))  # already USD: 3.33
    spend(euro, "7.00", D(2026, 3, 20))  # 16 days after the last rate: no rate, left out
    split = spend(euro, "40.00", D(2026, 3, 2), category="Shopping")  # split: 30 Groceries (x 1.08 = 32.40)
    transaction_splits_replace(
        transaction=split,
        user=user,
        lines=[
            {"amount": Decimal("30.00"), "category": "Groceries"},
            {"amount": Decimal("10.00"), "category": "Dining"},
        ],
    )
    Budget.objects.create(
        user=user, category="Groceries", amount=Decimal("100.00"), start_date=D(2026, 3, 1), end_date=D(2026, 3, 31)
    )
    user.accounts = {"euro": euro, "pound": pound, "dollar": dollar}
    return user


def test_one_groceries_budget_in_usd_matches_each_days_ecb_rates(traveller, auth_client_for):
    # 21.60 + 11.00 + 19.01 + 6.35 + 3.33 + 32.40 (the split line) = 93.69 USD
    status = budget_status(user=traveller)
    assert status["currency"] == "USD"
    assert (status["total_budgeted"], status["total_spent"], status["total_remaining"]) == (
        Decimal("100.00"),
        Decimal("93.69"),
        Decimal("6.31"),
    )
    assert status["overall_percentage"] == Decimal("93.7")
    assert status["at_risk"] == [
        {
            "category": "Groceries",
            "budget": Decimal("100.00"),
            "spent": Decimal("93.69"),
            "percentage": Decimal("93.7"),
            "remaining": Decimal("6.31"),
        }
    ]
    assert status["unconverted"] == [{"currency": "EUR", "count": 1, "amount": Decimal("7.00")}]

    client = auth_client_for(traveller)
    [budget] = client.get("/api/v1/budgets").json()["results"]
    assert (budget["spent"], budget["status"], budget["unconverted_count"]) == ("93.69", "at_risk", 1)
    body = client.get("/api/v1/budgets/status").json()
    assert (body["currency"], body["total_spent"]) == ("USD", "93.69")
    assert body["unconverted"] == [{"currency": "EUR", "count": 1, "amount": "7.00"}]


def test_a_split_parent_without_a_rate_leaves_its_lines_out_and_says_so(traveller):
    late = TransactionFactory(
        user=traveller, account=traveller.accounts["pound"], currency="GBP", amount=Decimal("12.00"),
        date=D(2026, 3, 25), category="Shopping",
    )  # fmt: skip
    transaction_splits_replace(
        transaction=late,
        user=traveller,
        lines=[{"amount": Decimal("8.00"), "category": "Groceries"}, {"amount": Decimal("4.00"), "category": "Dining"}],
    )
    status = budget_status(user=traveller)
    assert status["total_spent"] == Decimal("93.69")  # unchanged: the 8.00 GBP line has no rate
    assert status["unconverted"] == [
        {"currency": "EUR", "count": 1, "amount": Decimal("7.00")},
        {"currency": "GBP", "count": 1, "amount": Decimal("8.00")},
    ]


def test_comparison_suggestions_and_reports_use_base_amounts_and_list_what_they_left_out(
    traveller, auth_client_for, time_machine
):
    comparison = budget_comparison(user=traveller, month=D(2026, 3, 1))
    groceries = next(row for row in comparison["categories"] if row["category"] == "Groceries")
    # As the budget counts it: 21.60 + 11.00 + 19.01 + 6.35 + 3.33 + the 30.00 EUR split line x 1.08 = 32.40
    assert groceries["current"] == Decimal("93.69")
    assert comparison["unconverted"] == [{"currency": "EUR", "count": 1, "amount": Decimal("7.00")}]

    report = spending_report(user=traveller, since=D(2026, 3, 1), until=D(2026, 3, 31))
    [march] = report["periods"]
    # Reports count split lines by their own category: 61.29 + the 30.00 EUR line x 1.08 = 32.40 -> 93.69,
    # the budget's figure; the 10.00 line is Dining's (10.80).
    groups = {g["key"]: g["amount"] for g in march["groups"]}
    assert (groups["Groceries"], groups["Dining"]) == (Decimal("93.69"), Decimal("10.80"))
    assert report["unconverted"] == [{"currency": "EUR", "count": 1, "amount": Decimal("7.00")}]
    cashflow = cashflow_report(user=traveller, since=D(2026, 3, 1), until=D(2026, 3, 31))
    # Spending: 61.29 + the split parent 40.00 EUR x 1.08 = 43.20 -> 104.49
    assert cashflow["periods"][0]["spending"] == Decimal("104.49")
    assert cashflow["unconverted"] == [{"currency": "EUR", "count": 1, "amount": Decimal("7.00")}]

    time_machine.move_to(datetime.datetime(2026, 3, 31, 12, tzinfo=datetime.UTC), tick=False)
    body = auth_client_for(traveller).get("/api/v1/budgets/suggestions").json()
    assert (body["currency"], body["unconverted"]) == ("USD", [{"currency": "EUR", "count": 1, "amount": "7.00"}])
    groceries = next(row for row in body["results"] if row["category"] == "Groceries")
    # 93.69 (split line included) over one month of history; +10 % = 103.059 -> rounded up to 110.00
    assert (groceries["monthly_average"], groceries["suggested_amount"]) == ("93.69", "110.00")


def test_weekly_summary_totals_in_base_and_lists_unconverted_rows(traveller):
    week = weekly_summary_build(user=traveller, week_start=D(2026, 3, 2), week_end=D(2026, 3, 8))
    # 21.60 + 11.00 + 19.01 + 6.35 + 3.33 + 43.20 (split parent, Shopping) = 104.49
    assert (week["currency"], week["total_spent"], week["unconverted"]) == ("USD", Decimal("104.49"), [])
    later = weekly_summary_build(user=traveller, week_start=D(2026, 3, 16), week_end=D(2026, 3, 22))
    assert (later["total_spent"], later["transaction_count"]) == (Decimal("0.00"), 1)
    assert later["unconverted"] == [{"currency": "EUR", "count": 1, "amount": Decimal("7.00")}]


def test_net_worth_in_the_base_currency_at_each_periods_end_rate(rates):
    user = UserFactory(base_currency="USD")
    AccountFactory(user=user, currency="EUR", name="EUR", opening_balance=Decimal("1000.00"))
    AccountFactory(user=user, currency="GBP", name="GBP", opening_balance=Decimal("500.00"))
    AccountFactory(user=user, currency="JPY", name="JPY", opening_balance=Decimal("10000.00"))
    AccountFactory(user=user, currency="KES", name="KES", opening_balance=Decimal("100.00"))

    [point] = net_worth_series(user=user, since=D(2026, 3, 1), until=D(2026, 3, 4), interval="month")

    # At 03-04: EUR 1000 x 1.10 = 1100.00; GBP needs both rates on one day -> 03-03:
    # 500 x 1.2674418605 = 633.72093025 -> 633.72; JPY -> 03-02: 1.08 / 160 = 0.00675,
    # 10000 x 0.00675 = 67.50; KES has no rate at all. 1100.00 + 633.72 + 67.50 = 1801.22
    assert point["base"] == {
        "currency": "USD",
        "assets": Decimal("1801.22"),
        "liabilities": Decimal("0.00"),
        "net_worth": Decimal("1801.22"),
    }
    assert point["unconverted"] == [{"currency": "KES", "count": 1, "amount": Decimal("100.00")}]
    assert len(point["currencies"]) == 4


def test_a_transfer_across_currencies_keeps_both_amounts_and_shows_the_implied_rate(traveller, auth_client_for):
    euro, pound = traveller.accounts["euro"], traveller.accounts["pound"]
    response = auth_client_for(traveller).post(
        "/api/v1/transfers",
        {"from_account": str(pound.id), "to_account": str(euro.id), "amount": "85.50", "to_amount": "100.00",
         "date": "2026-03-03"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["out_leg"]["amount"], body["out_leg"]["currency"]) == ("85.50", "GBP")
    assert (body["in_leg"]["amount"], body["in_leg"]["currency"]) == ("-100.00", "EUR")
    # 100.00 / 85.50 = 1.1695906432... -> 1.169591 EUR per GBP (the ECB's was 0.86 / 0.86... = 1 / 0.86 = 1.1628)
    assert body["implied_rate"] == "1.169591"
    legs = Transaction.objects.filter(transfer_id=body["id"]).order_by("amount")
    # Each leg converted on its own: -100.00 EUR x 1.09 = -109.00; 85.50 GBP x 1.2674418605 = 108.366... -> 108.37
    assert [leg.amount_base for leg in legs] == [Decimal("-109.00"), Decimal("108.37")]


def test_portfolio_summary_totals_in_the_base_currency(rates, time_machine):
    time_machine.move_to(datetime.datetime(2026, 3, 3, 12, tzinfo=datetime.UTC), tick=False)
    user = UserFactory(base_currency="USD")
    PortfolioHoldingFactory(user=user, currency="USD", cost_basis=Decimal("500.00"))
    PortfolioHoldingFactory(user=user, currency="EUR", cost_basis=Decimal("1000.00"))
    PortfolioHoldingFactory(user=user, currency="KES", cost_basis=Decimal("250.00"))

    summary = portfolio_summary(user=user)

    # Never valued: counted at cost. 500.00 + 1000.00 x 1.09 = 1590.00; KES has no rate.
    assert summary["totals_base"] == {
        "currency": "USD",
        "cost_basis": "1590.00",
        "market_value": "1590.00",
        "unrealised_gain": "0.00",
        "unrealised_gain_pct": "0.00",
    }
    assert summary["unconverted"] == [{"currency": "KES", "count": 1, "amount": "250.00"}]
    assert SplitLine.objects.count() == 0
