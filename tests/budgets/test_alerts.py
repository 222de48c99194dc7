import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from budgets.models import Budget
from budgets.services import budget_alerts_evaluate, budget_renew, status_cache_key
from ledger.events import transactions_changed
from merchants.categories import Category
from realtime.models import Notification
from tests.budgets.factories import BudgetFactory
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOON.date()


@pytest.fixture(autouse=True)
def march(time_machine):
    time_machine.move_to(NOON, tick=False)
    return time_machine


@pytest.fixture
def budget(user):
    return BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("200.00"))  # March 2026


def spend(user, amount, category=Category.GROCERIES, **kwargs):
    return TransactionFactory(user=user, amount=Decimal(amount), category=category, date=TODAY, **kwargs)


@pytest.fixture
def changed(django_capture_on_commit_callbacks):
    """What the ledger sends once after a request or import commits. The test
    runs inside a transaction, so the on-commit work is run explicitly."""

    def send(user, *transactions, action="created", categories=None):
        with django_capture_on_commit_callbacks(execute=True):
            transactions_changed.send(
                sender="ledger",
                user_id=user.pk,
                categories=categories or {t.category for t in transactions},
                transaction_ids=[t.pk for t in transactions],
                action=action,
            )

    return send


def levels(alerts):
    return [a["level"] for a in alerts]


def test_create_crossing_eighty_percent_sends_a_warning_with_the_design_payload(user, budget, sent_alerts, changed):
    changed(user, spend(user, "100.00"))
    assert sent_alerts == []

    changed(user, spend(user, "61.50"))

    assert sent_alerts == [
        {
            "user_id": user.pk,
            "category": "Groceries",
            "budget": "200.00",
            "spent": "161.50",
            "percentage": 80.8,
            "remaining": "38.50",
            "level": "warning",
        }
    ]
    # ...and the same event went out on the channel layer to the user's group.
    (event,) = sent_alerts.published()
    assert event["data"] == {key: value for key, value in sent_alerts[0].items() if key != "user_id"}
    assert event["id"] == Notification.objects.get(type="budget_alert").id


def test_a_level_alerts_once_not_on_every_transaction(user, budget, sent_alerts, changed):
    changed(user, spend(user, "165.00"))
    changed(user, spend(user, "2.00"))
    changed(user, spend(user, "3.00"))

    assert levels(sent_alerts) == ["warning"]


def test_each_higher_level_alerts_as_it_is_crossed(user, budget, sent_alerts, changed):
    for amount in ("170.00", "12.00", "20.00", "20.00"):  # 85 %, 91 %, 101 %, 111 %
        changed(user, spend(user, amount))

    assert levels(sent_alerts) == ["warning", "critical", "exceeded", "severe"]
    assert [a["percentage"] for a in sent_alerts] == [85.0, 91.0, 101.0, 111.0]
    assert sent_alerts[-1]["remaining"] == "-22.00"
    assert [event["data"]["level"] for event in sent_alerts.published()] == levels(sent_alerts)


def test_import_jumping_past_several_levels_sends_the_highest_once(user, budget, sent_alerts, changed):
    changed(user, spend(user, "100.00"))  # 50 %
    imported = [spend(user, "35.00", source="csv") for _ in range(4)]  # +140 -> 120 %

    changed(user, *imported, action="imported")

    assert levels(sent_alerts) == ["severe"]
    assert sent_alerts[0]["spent"] == "240.00"


def test_edit_that_raises_an_amount_crosses_a_level(user, budget, sent_alerts, changed):
    row = spend(user, "100.00")
    changed(user, row)

    row.amount = Decimal("185.00")
    row.save()
    changed(user, row, action="updated")

    assert levels(sent_alerts) == ["critical"]


def test_edit_moving_a_row_into_the_category_alerts_for_the_new_category(user, budget, sent_alerts, changed):
    row = spend(user, "190.00", category=Category.SHOPPING)
    changed(user, row)

    row.category = Category.GROCERIES
    row.save()
    changed(user, row, action="updated", categories={Category.SHOPPING, Category.GROCERIES})

    assert levels(sent_alerts) == ["critical"]


def test_restore_that_brings_spending_back_over_a_level_alerts(user, budget, sent_alerts, changed):
    changed(user, spend(user, "100.00"))
    row = spend(user, "80.00", is_deleted=True)

    row.is_deleted = False
    row.save()
    changed(user, row, action="restored")

    assert levels(sent_alerts) == ["critical"]


def test_delete_sends_no_alert(user, budget, sent_alerts, changed):
    changed(user, spend(user, "150.00"))
    row = spend(user, "30.00")
    changed(user, row)  # 90 %: critical
    sent_alerts.clear()

    row.is_deleted = True
    row.save()
    changed(user, row, action="deleted")

    assert sent_alerts == []
    state = Budget.objects.get(pk=budget.pk)
    assert (state.alert_level, state.alert_max_level) == (0, 90)  # back to 75 %, re-armed


def test_recrossing_a_level_within_the_hour_is_held_back_then_sent_after_it(user, budget, sent_alerts, march, changed):
    changed(user, spend(user, "170.00"))  # 85 %: warning
    refund = spend(user, "-30.00")
    changed(user, refund)  # 70 %: below again
    march.shift(datetime.timedelta(minutes=30))
    changed(user, spend(user, "20.00"))  # 80 % again within the hour
    assert levels(sent_alerts) == ["warning"]

    changed(user, spend(user, "-20.00"))  # down again
    march.shift(datetime.timedelta(minutes=31))
    changed(user, spend(user, "25.00"))  # crosses again 61 minutes after the alert

    assert levels(sent_alerts) == ["warning", "warning"]


def test_a_new_level_is_not_held_back_by_the_cooldown(user, budget, sent_alerts, march, changed):
    changed(user, spend(user, "165.00"))
    march.shift(datetime.timedelta(minutes=5))

    changed(user, spend(user, "20.00"))

    assert levels(sent_alerts) == ["warning", "critical"]


def test_a_new_period_alerts_again(user, budget, sent_alerts, march, changed):
    changed(user, spend(user, "170.00"))
    march.move_to(datetime.datetime(2026, 4, 1, 8, 0, tzinfo=datetime.UTC), tick=False)
    budget_renew(budget=budget)

    changed(user, TransactionFactory(user=user, amount=Decimal("170.00"), date=datetime.date(2026, 4, 1)))

    assert levels(sent_alerts) == ["warning", "warning"]


def test_other_categories_budgets_and_past_periods_are_not_evaluated(user, budget, sent_alerts, changed):
    BudgetFactory(
        user=user,
        category=Category.TRANSPORT,
        amount=Decimal("10.00"),
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 2, 28),
    )
    TransactionFactory(user=user, category=Category.TRANSPORT, amount=Decimal("50.00"), date=datetime.date(2026, 2, 3))
    changed(user, spend(user, "300.00", category=Category.SHOPPING))

    sent = budget_alerts_evaluate(user_id=user.pk, categories={Category.TRANSPORT, Category.SHOPPING})

    assert sent == [] and sent_alerts == []


def test_evaluation_reads_all_touched_budgets_in_one_query(user, sent_alerts, django_assert_num_queries):
    for category in (Category.GROCERIES, Category.TRANSPORT, Category.HEALTH):
        BudgetFactory(user=user, category=category, amount=Decimal("100.00"))
        spend(user, "10.00", category=category)
    budget_alerts_evaluate(user_id=user.pk, categories={Category.GROCERIES, Category.TRANSPORT, Category.HEALTH})

    with django_assert_num_queries(1):
        budget_alerts_evaluate(user_id=user.pk, categories={Category.GROCERIES, Category.TRANSPORT, Category.HEALTH})


def test_transactions_changed_invalidates_the_cached_status(user, budget, sent_alerts, changed):
    cache.set(status_cache_key(user.pk), {"stale": True})

    changed(user, spend(user, "5.00"))

    assert cache.get(status_cache_key(user.pk)) is None


def test_alert_is_sent_after_the_surrounding_transaction_commits(
    user, budget, sent_alerts, django_capture_on_commit_callbacks
):
    spend(user, "190.00")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        budget_alerts_evaluate(user_id=user.pk, categories={Category.GROCERIES})
    assert sent_alerts == []

    for callback in callbacks:
        callback()
    assert levels(sent_alerts) == ["critical"]


def test_lowering_a_budget_alerts_for_the_level_spending_is_now_past(
    user, budget, sent_alerts, changed, django_capture_on_commit_callbacks
):
    from budgets.services import budget_update

    changed(user, spend(user, "100.00"))
    with django_capture_on_commit_callbacks(execute=True):
        budget_update(budget=budget, data={"auto_renew": False})
    assert sent_alerts == []

    with django_capture_on_commit_callbacks(execute=True):
        budget_update(budget=budget, data={"amount": Decimal("110.00")})

    assert [(a["level"], a["budget"], a["spent"], a["percentage"]) for a in sent_alerts] == [
        ("critical", "110.00", "100.00", 90.9)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        budget_update(budget=budget, data={"amount": Decimal("400.00")})
    assert len(sent_alerts) == 1  # raising it re-arms the level, sends nothing


def test_creating_a_budget_below_what_was_already_spent_alerts(user, sent_alerts, django_capture_on_commit_callbacks):
    from budgets.services import budget_upsert

    spend(user, "95.00", category=Category.TRANSPORT)

    with django_capture_on_commit_callbacks(execute=True):
        budget_upsert(user=user, category=Category.TRANSPORT, amount=Decimal("80.00"))

    assert [(a["category"], a["level"], a["remaining"]) for a in sent_alerts] == [("Transport", "severe", "-15.00")]


def test_an_edit_from_a_stale_copy_does_not_resend_an_alert(
    user, budget, sent_alerts, changed, django_capture_on_commit_callbacks
):
    from budgets.services import budget_update

    stale = Budget.objects.get(pk=budget.pk)  # read by a request before the alert went out
    changed(user, spend(user, "170.00"))
    assert levels(sent_alerts) == ["warning"]

    with django_capture_on_commit_callbacks(execute=True):
        budget_update(budget=stale, data={"amount": Decimal("201.00")})

    assert levels(sent_alerts) == ["warning"]


def test_moving_the_dates_of_the_same_period_keeps_the_levels_sent(
    user, budget, sent_alerts, changed, django_capture_on_commit_callbacks
):
    from budgets.services import budget_update

    changed(user, spend(user, "170.00"))
    with django_capture_on_commit_callbacks(execute=True):
        budget_update(budget=budget, data={"start_date": budget.start_date - datetime.timedelta(days=1)})
    assert levels(sent_alerts) == ["warning"]


def test_a_new_category_starts_its_levels_afresh(
    user, budget, sent_alerts, changed, django_capture_on_commit_callbacks
):
    from budgets.services import budget_update

    changed(user, spend(user, "170.00"))
    spend(user, "170.00", category=Category.TRANSPORT)
    with django_capture_on_commit_callbacks(execute=True):
        budget_update(budget=budget, data={"category": Category.TRANSPORT})

    assert [(a["category"], a["level"]) for a in sent_alerts] == [("Groceries", "warning"), ("Transport", "warning")]
