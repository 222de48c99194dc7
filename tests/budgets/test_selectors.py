import datetime
from decimal import Decimal

import pytest

from budgets.selectors import (
    budget_comparison,
    budget_list,
    budget_overview,
    budget_overview_get,
    budget_status,
    budget_suggestions,
    round_suggestion,
)
from merchants.categories import Category
from tests.accounts.factories import UserFactory
from tests.budgets.factories import BudgetFactory
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db

MARCH = {"start_date": datetime.date(2026, 3, 1), "end_date": datetime.date(2026, 3, 31)}


def spend(user, amount, day=datetime.date(2026, 3, 10), category=Category.GROCERIES, **kwargs):
    return TransactionFactory(user=user, amount=Decimal(amount), date=day, category=category, **kwargs)


def _split_receipt_off_budget_and_transfer(user):
    """A 60.00 Shopping receipt split 20.00 Groceries / 40.00 Shopping, 500.00 on an
    off-budget account and a 300.00 transfer: only the split lines count."""
    from ledger.transactions.splits import transaction_splits_replace
    from tests.ledger.factories import AccountFactory

    receipt = spend(user, "60.00", category=Category.SHOPPING)
    transaction_splits_replace(
        transaction=receipt,
        user=user,
        lines=[
            {"amount": Decimal("20.00"), "category": Category.GROCERIES},
            {"amount": Decimal("40.00"), "category": Category.SHOPPING},
        ],
    )
    spend(user, "500.00", account=AccountFactory(user=user, name="Loan", on_budget=False))
    spend(user, "300.00", kind="transfer")


def test_spent_sums_period_rows_and_refunds_lower_it(user, other_user):
    budget = BudgetFactory(user=user, amount=Decimal("200.00"), **MARCH)
    spend(user, "50.00")
    spend(user, "30.25", day=datetime.date(2026, 3, 31))
    spend(user, "20.00", day=datetime.date(2026, 3, 1))
    spend(user, "-10.00")  # refund
    spend(user, "999.00", is_deleted=True)
    spend(user, "999.00", category=Category.TRANSPORT)
    spend(user, "999.00", day=datetime.date(2026, 2, 28))
    spend(user, "999.00", day=datetime.date(2026, 4, 1))
    spend(other_user, "999.00")

    [row] = budget_list(user=user)

    assert row.pk == budget.pk
    assert row.spent == Decimal("90.25")
    assert row.remaining == Decimal("109.75")
    assert row.percentage == Decimal("45.1")
    assert row.status == "healthy"


def test_budget_without_transactions_has_zero_spent(user):
    BudgetFactory(user=user, **MARCH)

    [row] = budget_list(user=user)

    assert (row.spent, row.remaining, row.percentage, row.status) == (Decimal("0"), Decimal("100.00"), 0, "healthy")


@pytest.mark.parametrize(
    ("spent", "status"),
    [("79.99", "healthy"), ("80.00", "at_risk"), ("99.99", "at_risk"), ("100.00", "over"), ("150.00", "over")],
)
def test_status_thresholds(user, spent, status):
    BudgetFactory(user=user, amount=Decimal("100.00"), **MARCH)
    spend(user, spent)

    [row] = budget_list(user=user)

    assert row.status == status


def test_all_budgets_figures_come_from_one_query(user, django_assert_num_queries):
    for index, category in enumerate([Category.GROCERIES, Category.TRANSPORT, Category.SHOPPING, Category.HEALTH]):
        BudgetFactory(user=user, category=category, amount=Decimal("100.00"), **MARCH)
        spend(user, f"{10 * (index + 1)}.00", category=category)
        spend(user, "5.00", category=category)

    # One lookup (split transactions? off-budget accounts?) and the one statement.
    with django_assert_num_queries(2):
        rows = list(budget_list(user=user))
        figures = [(r.category, r.spent, r.status) for r in rows]

    assert figures == [
        (Category.GROCERIES, Decimal("15.00"), "healthy"),
        (Category.HEALTH, Decimal("45.00"), "healthy"),
        (Category.SHOPPING, Decimal("35.00"), "healthy"),
        (Category.TRANSPORT, Decimal("25.00"), "healthy"),
    ]


def test_status_filter_on_list(user):
    BudgetFactory(user=user, category=Category.GROCERIES, **MARCH)
    BudgetFactory(user=user, category=Category.TRANSPORT, **MARCH)
    spend(user, "120.00", category=Category.TRANSPORT)

    over = budget_list(user=user, filters={"status": "over"})

    assert [b.category for b in over] == [Category.TRANSPORT]


def test_status_totals_and_lists(user, django_assert_num_queries):
    BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("100.00"), **MARCH)
    BudgetFactory(user=user, category=Category.TRANSPORT, amount=Decimal("50.00"), **MARCH)
    BudgetFactory(user=user, category=Category.SHOPPING, amount=Decimal("200.00"), **MARCH)
    spend(user, "85.00", category=Category.GROCERIES)
    spend(user, "60.00", category=Category.TRANSPORT)
    spend(user, "10.00", category=Category.SHOPPING)

    # One statement (the off-budget check inside it).
    with django_assert_num_queries(1):
        status = budget_status(user=user)

    assert status["total_budgeted"] == Decimal("350.00")
    assert status["total_spent"] == Decimal("155.00")
    assert status["overall_percentage"] == Decimal("44.3")
    assert (status["over_budget_count"], status["at_risk_count"], status["healthy_count"]) == (1, 1, 1)
    assert status["over_budget"] == [
        {
            "category": Category.TRANSPORT,
            "budget": Decimal("50.00"),
            "spent": Decimal("60.00"),
            "overage": Decimal("10.00"),
            "percentage": Decimal("120.0"),
        }
    ]
    assert status["at_risk"] == [
        {
            "category": Category.GROCERIES,
            "budget": Decimal("100.00"),
            "spent": Decimal("85.00"),
            "remaining": Decimal("15.00"),
            "percentage": Decimal("85.0"),
        }
    ]


def test_status_counts_split_lines_leaves_out_off_budget_and_transfer_rows_and_lists_unconverted_ones(
    user, django_assert_num_queries
):
    BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("100.00"), **MARCH)
    BudgetFactory(user=user, category=Category.SHOPPING, amount=Decimal("200.00"), **MARCH)
    spend(user, "65.00")
    _split_receipt_off_budget_and_transfer(user)
    spend(user, "15.00", currency="EUR")  # no EUR rate: left out, listed
    spend(user, "9.00", day=datetime.date(2026, 2, 27), currency="EUR")  # before the period: not listed

    # One statement, unconverted rows included.
    with django_assert_num_queries(1):
        status = budget_status(user=user)

    # Groceries 65 + 20 (a split line) = 85 of 100: at risk; Shopping 40 of 200.
    assert (status["total_spent"], status["at_risk_count"], status["healthy_count"]) == (Decimal("125.00"), 1, 1)
    assert status["at_risk"][0]["spent"] == Decimal("85.00")
    assert status["unconverted"] == [{"currency": "EUR", "count": 1, "amount": Decimal("15.00")}]


def test_status_without_budgets_has_no_percentage(user):
    status = budget_status(user=user)

    assert status["budget_count"] == 0
    assert status["overall_percentage"] is None


def test_comparison_month_against_previous(user, other_user):
    spend(user, "100.00", day=datetime.date(2026, 2, 3))
    spend(user, "150.00", day=datetime.date(2026, 3, 28))
    spend(user, "-20.00", day=datetime.date(2026, 3, 29))  # refund
    spend(user, "40.00", day=datetime.date(2026, 3, 2), category=Category.TRANSPORT)  # new this month
    spend(user, "60.00", day=datetime.date(2026, 2, 2), category=Category.HEALTH)  # gone this month
    spend(user, "500.00", day=datetime.date(2026, 1, 31))  # before both months
    spend(user, "500.00", day=datetime.date(2026, 4, 1))  # after
    spend(user, "500.00", day=datetime.date(2026, 3, 5), is_deleted=True)
    spend(other_user, "500.00", day=datetime.date(2026, 3, 5))

    result = budget_comparison(user=user, month=datetime.date(2026, 3, 1))

    assert (result["month"], result["previous_month"]) == ("2026-03", "2026-02")
    assert result["categories"] == [
        {
            "category": Category.GROCERIES,
            "current": Decimal("130.00"),
            "previous": Decimal("100.00"),
            "change": Decimal("30.00"),
            "change_percentage": Decimal("30.0"),
        },
        {
            "category": Category.HEALTH,
            "current": Decimal("0.00"),
            "previous": Decimal("60.00"),
            "change": Decimal("-60.00"),
            "change_percentage": Decimal("-100.0"),
        },
        {
            "category": Category.TRANSPORT,
            "current": Decimal("40.00"),
            "previous": Decimal("0.00"),
            "change": Decimal("40.00"),
            "change_percentage": None,
        },
    ]
    assert result["total_change"] == Decimal("10.00")


def test_comparison_in_january_compares_with_december(user):
    spend(user, "10.00", day=datetime.date(2025, 12, 31))
    spend(user, "15.00", day=datetime.date(2026, 1, 1))

    result = budget_comparison(user=user, month=datetime.date(2026, 1, 1))

    assert result["previous_month"] == "2025-12"
    assert result["categories"][0]["change_percentage"] == Decimal("50.0")


@pytest.mark.parametrize(
    ("raw", "rounded"),
    [("12.10", "15.00"), ("95.00", "95.00"), ("99.01", "100.00"), ("101.00", "110.00"), ("1234.00", "1250.00")],
)
def test_suggestions_round_up_to_a_sensible_step(raw, rounded):
    assert round_suggestion(Decimal(raw)) == Decimal(rounded)


def test_suggestions_from_ninety_days_of_history(user):
    today = datetime.date(2026, 3, 31)
    for day in (datetime.date(2026, 1, 5), datetime.date(2026, 2, 5), datetime.date(2026, 3, 5)):
        spend(user, "100.00", day=day)  # 300 over three months: 100/month, +10 % = 110
    spend(user, "9999.00", day=datetime.date(2025, 12, 31))  # 91 days ago: outside the window
    spend(user, "3.00", day=datetime.date(2026, 3, 20), category=Category.PERSONAL_CARE)  # tiny
    spend(user, "-50.00", day=datetime.date(2026, 3, 20), category=Category.INCOME)  # income only
    BudgetFactory(user=user, category=Category.TRAVEL, amount=Decimal("400.00"))  # budget, no history

    result = {s.category: s for s in budget_suggestions(user=user, today=today)}

    groceries = result[Category.GROCERIES]
    assert (groceries.monthly_average, groceries.suggested_amount, groceries.months_of_history) == (
        Decimal("100.00"),
        Decimal("110.00"),
        3,
    )
    assert not groceries.is_implausible
    tiny = result[Category.PERSONAL_CARE]
    assert (tiny.suggested_amount, tiny.is_minimum) == (Decimal("10.00"), True)
    assert result[Category.INCOME].suggested_amount is None
    travel = result[Category.TRAVEL]
    assert (travel.suggested_amount, travel.current_budget) == (None, Decimal("400.00"))
    assert Category.TRANSPORT not in result


def test_suggestion_for_short_history_averages_over_the_months_covered(user):
    spend(user, "200.00", day=datetime.date(2026, 3, 20))

    [suggestion] = budget_suggestions(user=user, today=datetime.date(2026, 3, 31))

    assert (suggestion.months_of_history, suggestion.suggested_amount) == (1, Decimal("220.00"))


def test_implausible_suggestions_are_flagged(user):
    today = datetime.date(2026, 3, 31)
    spend(user, "400000.00", day=datetime.date(2026, 2, 1), category=Category.HOUSING)
    spend(user, "20.00", day=datetime.date(2026, 3, 1), category=Category.SHOPPING)
    spend(user, "20.00", day=datetime.date(2026, 3, 2), category=Category.SHOPPING)
    spend(user, "2000.00", day=datetime.date(2026, 3, 3), category=Category.SHOPPING)  # one-off drives it

    result = {s.category: s for s in budget_suggestions(user=user, today=today)}

    assert result[Category.HOUSING].is_implausible
    assert result[Category.SHOPPING].is_implausible


def test_other_users_budgets_are_not_listed(user):
    BudgetFactory(user=UserFactory())

    assert list(budget_list(user=user)) == []


def test_split_lines_count_by_their_own_category_in_comparison_suggestions_and_weekly_summary(user):
    from ledger.transactions.splits import transaction_splits_replace
    from workers.selectors import weekly_summary_build

    day = datetime.date(2026, 3, 10)
    spend(user, "20.00", day=day, category=Category.SHOPPING)
    receipt = spend(user, "100.00", day=day, category=Category.GROCERIES)
    lines = [
        {"amount": Decimal("60.00"), "category": Category.GROCERIES, "notes": ""},
        {"amount": Decimal("40.00"), "category": Category.SHOPPING, "notes": "soap"},
    ]
    transaction_splits_replace(transaction=receipt, user=user, lines=lines)
    expected = {Category.GROCERIES: Decimal("60.00"), Category.SHOPPING: Decimal("60.00")}

    comparison = budget_comparison(user=user, month=day)
    assert {c["category"]: c["current"] for c in comparison["categories"]} == expected
    assert comparison["total_current"] == Decimal("120.00")

    suggestions = {s.category: s for s in budget_suggestions(user=user, today=day)}
    assert {c: suggestions[c].monthly_average for c in expected} == expected
    assert {c: suggestions[c].transaction_count for c in expected} == {Category.GROCERIES: 1, Category.SHOPPING: 2}

    week = weekly_summary_build(user=user, week_start=datetime.date(2026, 3, 9), week_end=datetime.date(2026, 3, 15))
    assert {c["category"]: (c["spent"], c["count"]) for c in week["categories"]} == {
        Category.GROCERIES: (Decimal("60.00"), 1),
        Category.SHOPPING: (Decimal("60.00"), 2),
    }
    assert week["total_spent"] == Decimal("120.00")


def _rich_ledger(user, other_user):
    """Groceries and Shopping budgets for March over every kind of row a budget figure must weigh."""
    BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("100.00"), **MARCH)
    BudgetFactory(user=user, category=Category.SHOPPING, amount=Decimal("200.00"), auto_renew=False, **MARCH)
    spend(user, "65.00")
    spend(user, "30.00", day=datetime.date(2026, 1, 20))  # before the period, inside the 90 days
    _split_receipt_off_budget_and_transfer(user)
    spend(user, "999.00", is_deleted=True)
    spend(user, "15.00", currency="EUR")  # no EUR rate: left out of spent, counted as unconverted
    spend(user, "999.00", day=datetime.date(2025, 12, 1))  # before the 90 days
    spend(other_user, "999.00")


def test_overview_figures_and_suggestions_come_from_one_statement(user, other_user, django_assert_num_queries):
    _rich_ledger(user, other_user)

    with django_assert_num_queries(2):  # the ledger version, then the one statement
        rows = budget_overview(user=user, today=datetime.date(2026, 3, 15))

    figures = [
        (r["category"], r["spent"], r["remaining"], r["percentage"], r["status"], r["unconverted_count"]) for r in rows
    ]
    # Groceries: 65 + a 20.00 split line of 85 of 100; Shopping: the other line, 40 of 200.
    assert figures == [
        (Category.GROCERIES, Decimal("85.00"), Decimal("15.00"), Decimal("85.0"), "at_risk", 1),
        (Category.SHOPPING, Decimal("40.00"), Decimal("160.00"), Decimal("20.0"), "healthy", 0),
    ]
    # Groceries: 115 over the two months the window's history covers is 57.50 a month, +10 % is 63.25 -> 65;
    # Shopping: 40 in one month, +10 % is 44 -> 45.
    assert [r["suggested_amount"] for r in rows] == [Decimal("65.00"), Decimal("45.00")]


def test_overview_answers_what_the_annotated_list_and_the_suggestions_answer(user, other_user):
    from budgets.serializers import BudgetOutputSerializer, budget_data

    _rich_ledger(user, other_user)
    today = datetime.date(2026, 3, 15)
    suggested = {s.category: s.suggested_amount for s in budget_suggestions(user=user, today=today)}
    expected = []
    for budget in budget_list(user=user):
        budget.suggested_amount = suggested.get(budget.category)
        expected.append(dict(BudgetOutputSerializer(budget).data))

    assert [budget_data(row) for row in budget_overview(user=user, today=today)] == expected


@pytest.mark.parametrize(
    ("filters", "categories"),
    [
        ({"status": "at_risk"}, [Category.GROCERIES]),
        ({"status": "over"}, []),
        ({"category": Category.SHOPPING}, [Category.SHOPPING]),
        ({"auto_renew": False}, [Category.SHOPPING]),
        ({"auto_renew": None, "category": "", "status": ""}, [Category.GROCERIES, Category.SHOPPING]),
    ],
)
def test_overview_filters(user, other_user, filters, categories):
    _rich_ledger(user, other_user)

    rows = budget_overview(user=user, filters=filters, today=datetime.date(2026, 3, 15))

    assert [r["category"] for r in rows] == categories


def test_overview_get_is_the_users_own_budget_or_not_found(user, other_user):
    from config.errors import NotFound

    mine = BudgetFactory(user=user, **MARCH)
    theirs = BudgetFactory(user=other_user, **MARCH)

    assert budget_overview_get(user=user, budget_id=mine.pk)["id"] == mine.pk
    for budget_id in (theirs.pk, "not-a-uuid"):
        with pytest.raises(NotFound):
            budget_overview_get(user=user, budget_id=budget_id)


def _groceries_spent(user):
    return next(r["spent"] for r in budget_overview(user=user, today=datetime.date(2026, 3, 15)))


def test_overview_rows_come_from_redis_until_the_ledger_moves(user, django_assert_num_queries):
    BudgetFactory(user=user, category=Category.GROCERIES, **MARCH)
    spend(user, "10.00")
    assert _groceries_spent(user) == Decimal("10.00")

    with django_assert_num_queries(1):  # the version only: the rows are Redis's
        assert _groceries_spent(user) == Decimal("10.00")
    # A write to the user's transactions moves the version: no callback, no invalidation needed.
    spend(user, "5.00")

    assert _groceries_spent(user) == Decimal("15.00")


def test_budget_edits_and_split_changes_drop_the_cached_rows(user, django_capture_on_commit_callbacks):
    from budgets.services import budget_update
    from ledger.transactions.splits import transaction_splits_replace

    budget = BudgetFactory(user=user, category=Category.GROCERIES, **MARCH)
    receipt = spend(user, "50.00", category=Category.SHOPPING)
    lines = [{"amount": Decimal("20.00"), "category": c} for c in (Category.GROCERIES, Category.SHOPPING)]
    lines[1]["amount"] = Decimal("30.00")
    transaction_splits_replace(transaction=receipt, user=user, lines=lines)
    assert _groceries_spent(user) == Decimal("20.00")

    with django_capture_on_commit_callbacks(execute=True):
        budget_update(budget=budget, data={"amount": Decimal("40.00")})
    assert budget_overview(user=user, today=datetime.date(2026, 3, 15))[0]["status"] == "healthy"  # 20 of 40
    # The parent is split already: new lines leave its row (and the ledger version) alone.
    with django_capture_on_commit_callbacks(execute=True):
        transaction_splits_replace(
            transaction=receipt,
            user=user,
            lines=[
                {"amount": Decimal("45.00"), "category": Category.GROCERIES},
                {"amount": Decimal("5.00"), "category": Category.SHOPPING},
            ],
        )

    assert _groceries_spent(user) == Decimal("45.00")
    assert budget_overview(user=user, today=datetime.date(2026, 3, 15))[0]["status"] == "over"


def test_overview_without_redis_is_computed_every_time(user, redis_away):
    BudgetFactory(user=user, category=Category.GROCERIES, **MARCH)
    spend(user, "10.00")

    assert _groceries_spent(user) == Decimal("10.00")
    assert _groceries_spent(user) == Decimal("10.00")
