"""The monthly report (1st of the month, for the month before) against a
hand-computed fixture. The user is in USD; the job runs on 2026-05-01, so the
report is April 2026 against March.

March: Groceries 100.00, Food & Dining 50.00.
April: Income -3000.00; Groceries 250.00; Food & Dining 30.00; Shopping
120.00 and its refund -20.00 (100.00); Transport 10.00; a 500.00 transfer
leg (never counted). Cash flow: income 3000.00, spending 250 + 30 + 100 + 10
= 390.00, net 2610.00, savings rate 2610 / 3000 = 87.0 %.
Top categories: Groceries 250.00 (March 100.00), Shopping 100.00 (0.00),
Food & Dining 30.00 (50.00), Transport 10.00 (0.00).
Budgets: Groceries 200.00 for April (not renewed yet: its current period)
spent 250.00, 125.0 %: over. Transport 100.00 closed into an April
BudgetPeriod, spent 10.00: not listed.
Subscriptions: Netflix first detected in April (listed), Gym in March (not)."""

import datetime
from decimal import Decimal
from smtplib import SMTPException

import pytest
from django.utils import timezone

from budgets.models import Budget, BudgetPeriod
from ledger.models import Recurrence, Transaction
from realtime.models import Notification
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory
from workers.models import MonthlyReportDelivery
from workers.selectors import month_bounds
from workers.tasks import monthly_report

pytestmark = pytest.mark.django_db

D = datetime.date
FIRST_OF_MAY = D(2026, 5, 1)


def _recurrence(user, name, detected_on):
    recurrence = Recurrence.objects.create(
        user=user,
        merchant_key=name.lower(),
        merchant_name=name,
        amount_mean=Decimal("15.99"),
        period_days=30,
        last_date=detected_on,
        next_expected_date=detected_on + datetime.timedelta(days=30),
    )
    detected_at = timezone.make_aware(datetime.datetime.combine(detected_on, datetime.time(12)))
    Recurrence.objects.filter(pk=recurrence.pk).update(created_at=detected_at)


@pytest.fixture
def ada():
    user = UserFactory(full_name="Ada")

    def tx(amount, day, category, **kw):
        return TransactionFactory(user=user, amount=Decimal(amount), date=day, category=category, **kw)

    tx("100.00", D(2026, 3, 10), "Groceries")
    tx("50.00", D(2026, 3, 12), "Food & Dining")
    tx("-3000.00", D(2026, 4, 1), "Income")
    tx("250.00", D(2026, 4, 5), "Groceries")
    tx("30.00", D(2026, 4, 6), "Food & Dining")
    tx("120.00", D(2026, 4, 7), "Shopping")
    tx("-20.00", D(2026, 4, 9), "Shopping")
    tx("10.00", D(2026, 4, 11), "Transport")
    tx("500.00", D(2026, 4, 15), "Transfers", kind=Transaction.Kind.TRANSFER)
    tx("99.00", D(2026, 5, 1), "Groceries")  # this month: not in the report
    Budget.objects.create(
        user=user, category="Groceries", amount=Decimal("200.00"), start_date=D(2026, 4, 1), end_date=D(2026, 4, 30)
    )
    transport = Budget.objects.create(
        user=user, category="Transport", amount=Decimal("100.00"), start_date=D(2026, 5, 1), end_date=D(2026, 5, 31)
    )
    BudgetPeriod.objects.create(
        budget=transport,
        category="Transport",
        start_date=D(2026, 4, 1),
        end_date=D(2026, 4, 30),
        amount=Decimal("100.00"),
        spent=Decimal("10.00"),
    )
    _recurrence(user, "Netflix", D(2026, 4, 20))
    _recurrence(user, "Gym", D(2026, 3, 20))
    return user


def test_month_bounds_is_the_last_full_calendar_month():
    assert month_bounds(FIRST_OF_MAY) == (D(2026, 4, 1), D(2026, 4, 30))
    assert month_bounds(D(2026, 1, 17)) == (D(2025, 12, 1), D(2025, 12, 31))


def test_report_mails_cash_flow_top_categories_budgets_over_and_new_subscriptions(ada, mailoutbox):
    result = monthly_report.apply(kwargs={"today": FIRST_OF_MAY.isoformat()}).get()

    assert result == {"month": "2026-04", "sent": 1, "skipped": 0}
    [mail] = mailoutbox
    assert (mail.to, mail.subject) == ([ada.email], "Your April 2026 in money")
    text = mail.body
    assert "Income:   3000.00 USD" in text
    assert "Spending: 390.00 USD" in text
    assert "Net:      2610.00 USD (saved 87.0% of income)" in text
    top = [line.strip() for line in text.split("Top categories")[1].split("Budgets that went over")[0].splitlines()]
    assert top[1:5] == [
        "- Groceries: 250.00 USD (March: 100.00)",
        "- Shopping: 100.00 USD (March: 0.00)",
        "- Food & Dining: 30.00 USD (March: 50.00)",
        "- Transport: 10.00 USD (March: 0.00)",
    ]
    assert "- Groceries: 250.00 of 200.00 USD (125.0%, 1 Apr – 30 Apr)" in text
    assert "Transport: 10.00 of" not in text
    assert "- Netflix: 15.99 every 30 days, next on 20 May 2026" in text
    assert "Gym" not in text and "99.00" not in text and "500.00" not in text
    html = mail.alternatives[0][0]
    assert "<td>Food &amp; Dining</td>" in html
    assert "<li>Groceries: 250.00 of 200.00 USD (125.0%)</li>" in html


def test_report_is_stored_as_a_notification_with_the_figures(ada, mailoutbox):
    monthly_report.apply(kwargs={"today": FIRST_OF_MAY.isoformat()}).get()

    [notification] = Notification.objects.filter(user=ada, type="monthly_report")
    assert notification.data == {
        "month": "2026-04",
        "currency": "USD",
        "income": "3000.00",
        "spending": "390.00",
        "net": "2610.00",
        "savings_rate": "87.0",
        "top_categories": [
            {"category": "Groceries", "amount": "250.00", "previous": "100.00"},
            {"category": "Shopping", "amount": "100.00", "previous": "0.00"},
            {"category": "Food & Dining", "amount": "30.00", "previous": "50.00"},
            {"category": "Transport", "amount": "10.00", "previous": "0.00"},
        ],
        "budgets_over": [{"category": "Groceries", "budget": "200.00", "spent": "250.00"}],
        "new_subscriptions": [{"merchant": "Netflix", "amount": "15.99", "period_days": 30}],
    }


def test_report_is_sent_once_per_user_and_month_and_respects_opt_out(ada, mailoutbox):
    opted_out = UserFactory(preferences={"currency": "USD", "notifications": {"monthly_report": False}})
    idle = UserFactory()
    TransactionFactory(user=opted_out, date=D(2026, 4, 3))
    TransactionFactory(user=idle, date=D(2026, 2, 3))

    first = monthly_report.apply(kwargs={"today": FIRST_OF_MAY.isoformat()}).get()
    second = monthly_report.apply(kwargs={"today": D(2026, 5, 2).isoformat()}).get()

    assert first == {"month": "2026-04", "sent": 1, "skipped": 0}
    assert second == {"month": "2026-04", "sent": 0, "skipped": 1}
    assert [mail.to for mail in mailoutbox] == [[ada.email]]
    assert MonthlyReportDelivery.objects.filter(month=D(2026, 4, 1)).count() == 1
    assert Notification.objects.filter(type="monthly_report").count() == 1
    assert not Notification.objects.filter(user__in=[opted_out, idle]).exists()


def test_a_refused_mail_stores_nothing_so_the_retry_sends_it(ada, mailoutbox, monkeypatch):
    from django.core.mail import EmailMessage

    def refuse(self, fail_silently=False):
        raise SMTPException("mail server said no")

    with monkeypatch.context() as patch:
        patch.setattr(EmailMessage, "send", refuse)
        with pytest.raises(SMTPException):
            monthly_report.apply(kwargs={"today": FIRST_OF_MAY.isoformat()}, throw=True).get()
    assert not MonthlyReportDelivery.objects.exists()
    assert not Notification.objects.filter(type="monthly_report").exists()

    retried = monthly_report.apply(kwargs={"today": FIRST_OF_MAY.isoformat()}).get()

    assert retried["sent"] == 1
    assert len(mailoutbox) == 1
    assert Notification.objects.filter(user=ada, type="monthly_report").count() == 1
