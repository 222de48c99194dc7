import datetime
from decimal import Decimal

import pytest

from budgets.models import Budget
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory
from workers.models import WeeklySummaryDelivery
from workers.selectors import week_bounds
from workers.tasks import weekly_summary

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 23)
LAST_WEEK = datetime.date(2026, 11, 16)


def test_week_bounds_is_the_last_full_monday_to_sunday_week():
    assert week_bounds(MONDAY) == (LAST_WEEK, datetime.date(2026, 11, 22))
    assert week_bounds(datetime.date(2026, 11, 26)) == (LAST_WEEK, datetime.date(2026, 11, 22))


def test_summary_mail_has_spending_by_category_against_budgets_and_top_merchants(mailoutbox):
    user = UserFactory(full_name="Ada")
    Budget.objects.create(
        user=user,
        category="Groceries",
        amount=Decimal("200.00"),
        start_date=datetime.date(2026, 11, 1),
        end_date=datetime.date(2026, 11, 30),
    )
    TransactionFactory(user=user, date=LAST_WEEK, amount=Decimal("120.00"), category="Groceries", merchant_raw="Lidl")
    TransactionFactory(user=user, date=LAST_WEEK, amount=Decimal("30.50"), category="Groceries", merchant_raw="Aldi")
    TransactionFactory(user=user, date=LAST_WEEK, amount=Decimal("-10.00"), category="Groceries", merchant_raw="Lidl")
    TransactionFactory(user=user, date=LAST_WEEK, amount=Decimal("15.00"), category="Transport", merchant_raw="Uber")
    TransactionFactory(user=user, date=LAST_WEEK, amount=Decimal("99.00"), category="Transport", is_deleted=True)
    TransactionFactory(user=user, date=MONDAY, amount=Decimal("77.00"), category="Transport")  # this week

    result = weekly_summary.apply(kwargs={"today": MONDAY.isoformat()}).get()

    assert result == {"week_start": "2026-11-16", "sent": 1, "skipped": 0}
    [mail] = mailoutbox
    assert mail.to == [user.email]
    text = mail.body
    assert "Spent:    165.50 USD" in text
    assert "Received: 10.00 USD" in text
    assert "Groceries: 140.50 USD (budget 200.00, 70.3% used this period, healthy)" in text
    assert "Transport: 15.00 USD" in text
    assert "1. Lidl: 120.00 USD (1×)" in text
    assert "99.00" not in text and "77.00" not in text
    html = mail.alternatives[0][0]
    assert "<td>Groceries</td>" in html


def test_summary_is_sent_once_per_week_and_respects_opt_out(mailoutbox):
    keen = UserFactory()
    opted_out = UserFactory(preferences={"currency": "EUR", "notifications": {"weekly_summary": False}})
    idle = UserFactory()
    for user in (keen, opted_out):
        TransactionFactory(user=user, date=LAST_WEEK)
    TransactionFactory(user=idle, date=LAST_WEEK - datetime.timedelta(days=30))

    first = weekly_summary.apply(kwargs={"today": MONDAY.isoformat()}).get()
    second = weekly_summary.apply(kwargs={"today": MONDAY.isoformat()}).get()

    assert first["sent"] == 1 and second["sent"] == 0
    assert [mail.to for mail in mailoutbox] == [[keen.email]]
    assert WeeklySummaryDelivery.objects.filter(user=keen, week_start=LAST_WEEK).count() == 1
