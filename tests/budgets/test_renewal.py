import datetime
from decimal import Decimal

import pytest

from budgets.models import Budget, BudgetPeriod
from budgets.services import budget_renew, next_period, renew_due_budgets
from config.exceptions import Conflict
from tests.budgets.factories import BudgetFactory
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ((2026, 1, 1), (2026, 1, 31), ((2026, 2, 1), (2026, 2, 28))),  # calendar month -> next month
        ((2026, 11, 1), (2026, 12, 31), ((2027, 1, 1), (2027, 2, 28))),  # two months -> next two
        ((2026, 3, 2), (2026, 3, 15), ((2026, 3, 16), (2026, 3, 29))),  # 14 days -> 14 days
    ],
)
def test_next_period_has_the_same_length(start, end, expected):
    new = next_period(datetime.date(*start), datetime.date(*end))

    assert new == (datetime.date(*expected[0]), datetime.date(*expected[1]))


def test_renew_closes_the_period_and_starts_the_next(user):
    budget = BudgetFactory(user=user, amount=Decimal("100.00"))  # March 2026
    TransactionFactory(user=user, category=budget.category, amount=Decimal("70.00"), date=datetime.date(2026, 3, 9))
    TransactionFactory(user=user, category=budget.category, amount=Decimal("5.00"), date=datetime.date(2026, 4, 2))

    renewed = budget_renew(budget=budget, today=datetime.date(2026, 4, 2))

    assert (renewed.start_date, renewed.end_date) == (datetime.date(2026, 4, 1), datetime.date(2026, 4, 30))
    [period] = BudgetPeriod.objects.filter(budget=budget)
    assert (period.start_date, period.end_date, period.amount, period.spent) == (
        datetime.date(2026, 3, 1),
        datetime.date(2026, 3, 31),
        Decimal("100.00"),
        Decimal("70.00"),
    )


def test_renew_before_the_period_ends_is_a_conflict(user):
    budget = BudgetFactory(user=user)

    with pytest.raises(Conflict) as exc:
        budget_renew(budget=budget, today=datetime.date(2026, 3, 31))

    assert exc.value.code == "not_ended"
    assert not BudgetPeriod.objects.exists()


def test_renewing_twice_is_a_conflict(user):
    budget = BudgetFactory(user=user)
    budget_renew(budget=budget, today=datetime.date(2026, 4, 1))

    with pytest.raises(Conflict) as exc:
        budget_renew(budget=budget, today=datetime.date(2026, 4, 1))

    assert exc.value.code == "already_renewed"
    assert BudgetPeriod.objects.count() == 1


def test_renewal_more_than_one_period_late_needs_catch_up(user):
    budget = BudgetFactory(user=user)

    with pytest.raises(Conflict) as exc:
        budget_renew(budget=budget, today=datetime.date(2026, 6, 10))

    assert exc.value.code == "periods_missed"
    assert "catch_up" in str(exc.value.detail)
    budget.refresh_from_db()
    assert budget.end_date == datetime.date(2026, 3, 31)


def test_catch_up_renews_period_by_period_to_today(user):
    budget = BudgetFactory(user=user)
    TransactionFactory(user=user, category=budget.category, amount=Decimal("40.00"), date=datetime.date(2026, 4, 15))

    renewed = budget_renew(budget=budget, catch_up=True, today=datetime.date(2026, 6, 10))

    assert (renewed.start_date, renewed.end_date) == (datetime.date(2026, 6, 1), datetime.date(2026, 6, 30))
    periods = list(BudgetPeriod.objects.filter(budget=budget).order_by("start_date").values_list("start_date", "spent"))
    assert periods == [
        (datetime.date(2026, 3, 1), Decimal("0.00")),
        (datetime.date(2026, 4, 1), Decimal("40.00")),
        (datetime.date(2026, 5, 1), Decimal("0.00")),
    ]


def test_renew_due_budgets_renews_only_ended_auto_renew_budgets_and_is_idempotent(user, other_user):
    from merchants.categories import Category

    due = BudgetFactory(user=user, category=Category.GROCERIES)
    manual = BudgetFactory(user=user, category=Category.TRANSPORT, auto_renew=False)
    running = BudgetFactory(user=other_user, start_date=datetime.date(2026, 4, 1), end_date=datetime.date(2026, 4, 30))
    late = BudgetFactory(
        user=other_user,
        category=Category.HEALTH,
        start_date=datetime.date(2026, 1, 1),
        end_date=datetime.date(2026, 1, 31),
    )
    today = datetime.date(2026, 4, 3)

    first = renew_due_budgets(today=today)
    second = renew_due_budgets(today=today)

    assert (first, second) == (2, 0)
    dates = dict(Budget.objects.values_list("pk", "start_date"))
    assert dates[due.pk] == datetime.date(2026, 4, 1)
    assert dates[late.pk] == datetime.date(2026, 4, 1)
    assert dates[manual.pk] == datetime.date(2026, 3, 1)
    assert dates[running.pk] == datetime.date(2026, 4, 1)
    assert BudgetPeriod.objects.filter(budget=late).count() == 3


def test_renew_task_calls_the_service(user, time_machine):
    from budgets.tasks import renew_due_budgets as task

    BudgetFactory(user=user)
    time_machine.move_to(datetime.datetime(2026, 4, 2, 12, tzinfo=datetime.UTC))

    assert task.apply().get() == {"renewed": 1}
