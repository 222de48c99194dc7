import datetime
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps as django_apps
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from ledger.models import Recurrence
from ledger.recurrences import services as subscriptions
from ledger.tasks import detect_subscriptions, send_subscription_reminders
from realtime import services as realtime_services
from realtime.models import Notification
from tests.ledger.factories import TransactionFactory
from tests.merchants.factories import MerchantFactory
from workers.schedules import DOMAIN_JOB_SCHEDULES, sync_schedules

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 7, 10)


def weekday_shift(day: datetime.date) -> datetime.date:
    """A charge due on a weekend lands on the Monday after."""
    return day + datetime.timedelta(days={5: 2, 6: 1}.get(day.weekday(), 0))


def charges(user, merchant_raw, days, amounts, **extra):
    for day, amount in zip(days, amounts, strict=True):
        TransactionFactory(user=user, merchant_raw=merchant_raw, date=day, amount=Decimal(amount), **extra)


def monthly_days(first: datetime.date, count: int) -> list[datetime.date]:
    return [weekday_shift(first.replace(month=first.month + i)) for i in range(count)]


def test_monthly_series_with_weekend_shifts_is_detected(user):
    days = monthly_days(datetime.date(2025, 1, 1), 7)  # Feb 1, Mar 1 and Jun 1 fall on weekends
    assert days[1] == datetime.date(2025, 2, 3) and days[5] == datetime.date(2025, 6, 2)
    merchant = MerchantFactory()
    charges(user, "NETFLIX.COM 1234", days, ["15.99"] * 7, merchant=merchant)

    summary = subscriptions.recurrences_detect(today=TODAY)

    assert summary["recurrences"] == 1
    row = Recurrence.objects.get(user=user)
    assert row.period_days == 30
    assert row.amount_mean == Decimal("15.99")
    assert row.occurrences == 7
    assert row.last_date == datetime.date(2025, 7, 1)
    assert row.next_expected_date == datetime.date(2025, 8, 1)  # the usual day, not last + 30
    assert row.merchant == merchant
    assert 0.7 < row.confidence <= 1.0


def test_yearly_series_is_detected(user):
    charges(
        user,
        "Amazon Prime",
        [datetime.date(2023, 3, 15), datetime.date(2024, 3, 16), datetime.date(2025, 3, 17)],  # 17 Mar: a Monday
        ["139.00", "139.00", "149.00"],
    )

    subscriptions.recurrences_detect(today=TODAY)

    row = Recurrence.objects.get(user=user)
    assert row.period_days == 365
    assert row.next_expected_date == datetime.date(2026, 3, 15)
    assert row.amount_mean == Decimal("142.33")
    assert row.merchant is None and row.merchant_key == "amazon prime"


def test_weekly_and_fortnightly_series(user, other_user):
    weekly, fortnightly = datetime.date(2025, 6, 5), datetime.date(2025, 5, 22)
    charges(user, "Gym", [weekly + datetime.timedelta(days=7 * i) for i in range(6)], ["10.00"] * 6)
    charges(other_user, "Cleaner", [fortnightly + datetime.timedelta(days=14 * i) for i in range(4)], ["80.00"] * 4)

    subscriptions.recurrences_detect(today=TODAY)

    assert Recurrence.objects.get(user=user).period_days == 7
    assert Recurrence.objects.get(user=other_user).period_days == 14


def test_irregular_intervals_are_not_a_subscription(user):
    days = [datetime.date(2025, 1, 3), datetime.date(2025, 1, 20), datetime.date(2025, 3, 2), datetime.date(2025, 3, 9)]
    charges(user, "Corner Cafe", days, ["12.00"] * 4)

    assert subscriptions.recurrences_detect(today=TODAY)["recurrences"] == 0
    assert not Recurrence.objects.exists()


def test_amount_drift_is_not_a_subscription(user):
    charges(user, "Power Co", monthly_days(datetime.date(2025, 1, 1), 6), ["40", "55", "70", "90", "120", "150"])

    subscriptions.recurrences_detect(today=TODAY)

    assert not Recurrence.objects.exists()


def test_two_charges_are_not_enough_and_refunds_are_ignored(user):
    charges(user, "Spotify", [datetime.date(2025, 5, 5), datetime.date(2025, 6, 5)], ["9.99", "9.99"])
    TransactionFactory(user=user, merchant_raw="Spotify", date=datetime.date(2025, 7, 5), amount=Decimal("-9.99"))

    subscriptions.recurrences_detect(today=TODAY)

    assert not Recurrence.objects.exists()


def test_rerun_updates_the_row_and_dismissed_stays_dismissed(user):
    charges(user, "Netflix", monthly_days(datetime.date(2025, 3, 1), 4), ["15.99"] * 4)
    subscriptions.recurrences_detect(today=TODAY)
    row = Recurrence.objects.get()
    subscriptions.recurrence_set_dismissed(recurrence=row, dismissed=True)
    TransactionFactory(user=user, merchant_raw="Netflix", date=datetime.date(2025, 7, 1), amount=Decimal("15.99"))

    detect_subscriptions.apply(kwargs={"today": TODAY.isoformat()}).get()

    row = Recurrence.objects.get()  # still one row
    assert row.dismissed is True
    assert row.occurrences == 5
    assert row.last_date == datetime.date(2025, 7, 1)


def test_stopped_subscription_is_not_created(user):
    charges(user, "Old Gym", monthly_days(datetime.date(2024, 9, 1), 4), ["30.00"] * 4)  # last charge Dec 2024

    subscriptions.recurrences_detect(today=TODAY)

    assert not Recurrence.objects.exists()


def recurrence(user, **fields):
    values = {
        "merchant_key": "netflix",
        "merchant_name": "NETFLIX",
        "amount_mean": Decimal("15.99"),
        "currency": "USD",
        "period_days": 30,
        "last_date": datetime.date(2025, 6, 12),
        "next_expected_date": datetime.date(2025, 7, 12),
        "confidence": 0.9,
        "occurrences": 5,
    } | fields
    return Recurrence.objects.create(user=user, **values)


def test_reminders_are_sent_once_per_expected_date(user, other_user):
    due = recurrence(user)
    recurrence(user, merchant_key="far", next_expected_date=datetime.date(2025, 7, 20))
    recurrence(user, merchant_key="gone", dismissed=True)
    recurrence(other_user, merchant_key="past", next_expected_date=datetime.date(2025, 7, 9))

    first = send_subscription_reminders.apply(kwargs={"today": TODAY.isoformat()}).get()
    again = subscriptions.subscription_reminders_send(today=datetime.date(2025, 7, 11))

    assert first == {"due": 1, "sent": 1} and again == {"due": 0, "sent": 0}
    note = Notification.objects.get()
    assert note.user == user and note.type == "subscription_reminder"
    assert note.data == {
        "recurrence_id": str(due.id),
        "merchant": "NETFLIX",
        "amount": "15.99",
        "currency": "USD",
        "expected_date": "2025-07-12",
    }
    due.refresh_from_db()
    assert due.last_reminded_for == datetime.date(2025, 7, 12)

    # Detection moves the next date on: the new date gets its own reminder.
    Recurrence.objects.filter(pk=due.pk).update(next_expected_date=datetime.date(2025, 8, 12))
    assert subscriptions.subscription_reminders_send(today=datetime.date(2025, 8, 10))["sent"] == 1
    assert Notification.objects.count() == 2


def test_domain_schedule_rows_exist_and_resyncing_duplicates_nothing():
    rows = {row.task: row for row in PeriodicTask.objects.select_related("crontab")}
    expected = {
        "ledger.detect_subscriptions": ("0", "1"),
        "ledger.rescore_imported_anomalies": ("30", "1"),
        "budgets.renew_due_budgets": ("0", "3"),
        "realtime.cleanup_old_notifications": ("15", "4"),
        "ledger.send_subscription_reminders": ("0", "9"),
    }
    for task, (minute, hour) in expected.items():
        assert (rows[task].crontab.minute, rows[task].crontab.hour, rows[task].enabled) == (minute, hour, True)
    before = PeriodicTask.objects.count()

    sync_schedules(django_apps, DOMAIN_JOB_SCHEDULES)

    assert PeriodicTask.objects.count() == before


def test_cleanup_removes_only_old_notifications(user, settings):
    settings.NOTIFICATION_RETENTION_DAYS = 30
    with time_machine.travel(timezone.now() - datetime.timedelta(days=31)):
        old = realtime_services.notify(user.id, "budget_alert", {"n": 1})
        old_broadcast = realtime_services.broadcast("broadcast", {"n": 2})
    with time_machine.travel(timezone.now() - datetime.timedelta(days=29)):
        kept = realtime_services.notify(user.id, "budget_alert", {"n": 3})
    fresh = realtime_services.notify(user.id, "budget_alert", {"n": 4})

    from realtime.tasks import cleanup_old_notifications

    assert cleanup_old_notifications.apply().get() == {"deleted": 2}
    assert set(Notification.objects.values_list("id", flat=True)) == {kept.id, fresh.id}
    assert old.id and old_broadcast.id


class TestRecurrenceApi:
    URL = "/api/v1/recurrences"

    def test_lists_own_non_dismissed_by_default(self, auth_client, user, other_user):
        mine = recurrence(user)
        dismissed = recurrence(user, merchant_key="hidden", dismissed=True)
        recurrence(other_user)

        body = auth_client.get(self.URL).json()
        assert body["count"] == 1
        item = body["results"][0]
        assert item["id"] == str(mine.id) and item["amount_mean"] == "15.99"
        assert item["next_expected_date"] == "2025-07-12" and item["merchant_name"] == "NETFLIX"

        body = auth_client.get(self.URL, {"dismissed": "true"}).json()
        assert {r["id"] for r in body["results"]} == {str(mine.id), str(dismissed.id)}

    def test_bad_query_is_400(self, auth_client):
        assert auth_client.get(self.URL, {"dismissed": "maybe"}).status_code == 400
        assert auth_client.get(self.URL, {"limit": "500"}).status_code == 400

    def test_dismiss_and_undismiss(self, auth_client, user):
        row = recurrence(user)

        response = auth_client.patch(f"{self.URL}/{row.id}", {"dismissed": True}, format="json")
        assert response.status_code == 200 and response.json()["dismissed"] is True
        row.refresh_from_db()
        assert row.dismissed is True
        assert auth_client.get(self.URL).json()["count"] == 0

        assert auth_client.patch(f"{self.URL}/{row.id}", {"dismissed": False}, format="json").status_code == 200
        row.refresh_from_db()
        assert row.dismissed is False

    def test_another_users_recurrence_is_404_and_bad_input_400(self, auth_client, user, other_user):
        theirs = recurrence(other_user)
        response = auth_client.patch(f"{self.URL}/{theirs.id}", {"dismissed": True}, format="json")
        assert response.status_code == 404
        theirs.refresh_from_db()
        assert theirs.dismissed is False
        mine = recurrence(user)
        assert auth_client.patch(f"{self.URL}/{mine.id}", {"dismissed": "x"}, format="json").status_code == 400
        assert auth_client.patch(f"{self.URL}/{mine.id}", {}, format="json").status_code == 400

    def test_requires_authentication(self, api_client):
        assert api_client.get(self.URL).status_code == 401


def test_a_series_charged_in_several_currencies_is_averaged_in_the_base_currency(user):
    from ledger.models import ExchangeRate

    # Per 1 EUR: USD 1.10 and GBP 0.90 on each charge day (cross GBP->USD 1.10 / 0.90 = 1.2222222222).
    days = [datetime.date(2025, 4, 7), datetime.date(2025, 5, 7), datetime.date(2025, 6, 9)]
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=code, date=day, rate=Decimal(rate), source="ecb_history")
        for day in days
        for code, rate in (("USD", "1.10"), ("GBP", "0.90"))
    )
    user.base_currency = "USD"
    user.save(update_fields=["base_currency"])
    # 10.00 EUR -> 11.00 USD; 9.00 GBP x 1.2222222222 = 10.99999... -> 11.00 USD; 10.00 EUR -> 11.00 USD.
    charges(user, "STREAMCO", days[::2], ["10.00", "10.00"], currency="EUR")
    charges(user, "STREAMCO", days[1:2], ["9.00"], currency="GBP")
    # The same merchant text in one currency keeps that currency (no rates needed).
    charges(user, "GYM", monthly_days(datetime.date(2025, 3, 3), 4), ["30.00"] * 4, currency="GBP")

    subscriptions.recurrences_detect(today=TODAY)

    mixed = Recurrence.objects.get(user=user, merchant_key="streamco")
    # The raw amounts' mean would be 9.67 of nothing in particular.
    assert (mixed.amount_mean, mixed.currency, mixed.occurrences) == (Decimal("11.00"), "USD", 3)
    gym = Recurrence.objects.get(user=user, merchant_key="gym")
    assert (gym.amount_mean, gym.currency) == (Decimal("30.00"), "GBP")


def test_unconverted_charges_are_left_out_of_a_mixed_currency_series(user):
    user.base_currency = "USD"
    user.save(update_fields=["base_currency"])
    # No rates at all: the USD charges are in the base already, the EUR one cannot be converted.
    charges(user, "CLOUDBOX", monthly_days(datetime.date(2025, 3, 3), 4), ["5.00"] * 4, currency="USD")
    charges(user, "CLOUDBOX", [datetime.date(2025, 7, 3)], ["4.50"], currency="EUR")

    subscriptions.recurrences_detect(today=TODAY)

    series = Recurrence.objects.get(user=user, merchant_key="cloudbox")
    assert (series.amount_mean, series.currency, series.occurrences) == (Decimal("5.00"), "USD", 4)
