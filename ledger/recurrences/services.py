"""Subscription detection (Recurrence) and reminders: services and selectors.

Detection reads the last 400 days of spending (two years for yearly series)
in one streamed query ordered
by (user, merchant key, date), groups it in Python and upserts one
Recurrence per series found. A series is at least 3 charges whose intervals
all sit near one period (weekly, fortnightly, monthly, quarterly, yearly,
with room for month lengths and weekend shifts) and whose amounts are
stable (coefficient of variation <= 0.2).

Amounts are compared in one currency: the charges' own when they all share
it, else (one merchant charged from accounts in different currencies) each
charge's amount_base in the user's base currency; a charge not converted yet
(no rate, or awaiting a recompute) is left out of such a series."""

import calendar
import datetime
import statistics
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby, pairwise
from operator import itemgetter

from django.db import transaction as db_transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from ledger.models import Recurrence, Transaction
from realtime.services import notify_subscription_reminder

LOOKBACK_DAYS = 400
YEARLY_LOOKBACK_DAYS = 3 * 366 + 10  # three yearly charges and up to a year since the last
MIN_OCCURRENCES = 3
MAX_AMOUNT_CV = 0.2
REMINDER_DAYS_AHEAD = 3
UPSERT_BATCH = 2000
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    name: str
    days: int  # nominal length, stored as period_days
    months: int  # > 0: the next date is found on the calendar, not by adding days
    tolerance: int  # days either side of the nominal length


PERIODS = (
    Period("weekly", 7, 0, 1),
    Period("fortnightly", 14, 0, 2),
    # 28..31-day months plus a charge moved off a weekend (up to 2 days either way).
    Period("monthly", 30, 1, 4),
    Period("quarterly", 91, 3, 7),
    Period("yearly", 365, 12, 9),
)


@dataclass
class Series:
    period: Period
    amount_mean: Decimal
    last_date: datetime.date
    next_expected_date: datetime.date
    confidence: float
    occurrences: int


def _add_months(day: datetime.date, months: int, anchor_day: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(anchor_day, calendar.monthrange(year, month)[1]))


def _next_date(period: Period, dates: list[datetime.date]) -> datetime.date:
    last = dates[-1]
    if not period.months:
        return last + datetime.timedelta(days=period.days)
    # The usual day of the month, so one charge shifted off a weekend does not move the next one.
    anchor_day = Counter(d.day for d in dates).most_common(1)[0][0]
    return _add_months(last, period.months, anchor_day)


def detect_series(points: list[tuple[datetime.date, Decimal]], *, today: datetime.date) -> Series | None:
    """One (user, merchant) history, sorted by date -> a Series or None. Pure: the tests and the benchmark call it.

    Weekly to quarterly series are judged on the last 400 days; 400 days hold
    only two yearly charges, so a yearly series needs three within the last
    YEARLY_LOOKBACK_DAYS."""
    since = today - datetime.timedelta(days=LOOKBACK_DAYS)
    recent = [(day, amount) for day, amount in points if day >= since]
    return _fit(recent, PERIODS[:-1], today=today) or _fit(points, PERIODS[-1:], today=today)


def _fit(points, periods, *, today: datetime.date) -> Series | None:
    by_day: dict[datetime.date, Decimal] = {}
    for day, amount in points:
        by_day.setdefault(day, amount)  # several charges on one day count once
    if len(by_day) < MIN_OCCURRENCES:
        return None
    dates = sorted(by_day)
    intervals = [(b - a).days for a, b in pairwise(dates)]
    median_interval = statistics.median(intervals)
    period = next((p for p in periods if abs(median_interval - p.days) <= p.tolerance + 1), None)
    if period is None:
        return None
    deviations = [abs(i - period.days) for i in intervals]
    if period.months:
        # Calendar periods: measure against the calendar distance (Feb is short, years leap).
        deviations = [abs((b - _add_months(a, period.months, a.day)).days) for a, b in pairwise(dates)]
    if max(deviations) > period.tolerance:
        return None
    amounts = [float(by_day[d]) for d in dates]
    mean = statistics.fmean(amounts)
    if mean <= 0:
        return None
    cv = statistics.pstdev(amounts) / mean
    if cv > MAX_AMOUNT_CV:
        return None
    next_expected = _next_date(period, dates)
    if today > next_expected + datetime.timedelta(days=period.tolerance + period.days):
        return None  # stopped: a whole period and more has passed without the charge
    regularity = 1 - statistics.fmean(deviations) / (period.tolerance + 1)
    stability = 1 - cv / MAX_AMOUNT_CV
    history = min(1.0, (len(dates) - 1) / 5)
    confidence = round(max(0.0, min(1.0, 0.6 * regularity + 0.2 * stability + 0.2 * history)), 3)
    amount_mean = (sum(by_day.values(), Decimal(0)) / len(dates)).quantize(CENTS, rounding=ROUND_HALF_UP)
    return Series(period, amount_mean, dates[-1], next_expected, confidence, len(dates))


def _spending_rows(*, today: datetime.date, user_ids=None):
    rows = (
        Transaction.objects.live()
        .standard()
        .spending()
        .between(today - datetime.timedelta(days=YEARLY_LOOKBACK_DAYS), today)
        .exclude(merchant_normalized="")
    )
    if user_ids is not None:
        rows = rows.filter(user_id__in=list(user_ids))
    return (
        rows.order_by("user_id", "merchant_normalized", "date")
        .values_list(
            "user_id",
            "merchant_normalized",
            "date",
            "amount",
            "merchant_id",
            "merchant_raw",
            "currency",
            "amount_base",
            "base_currency",
        )
        .iterator(chunk_size=10000)
    )


def _upsert(recurrences: list[Recurrence]) -> None:
    if not recurrences:
        return
    with db_transaction.atomic():
        # One statement per batch; dismissed and last_reminded_for are the user's and the reminder's, never touched.
        Recurrence.objects.bulk_create(
            recurrences,
            update_conflicts=True,
            unique_fields=["user", "merchant_key"],
            update_fields=[
                "merchant",
                "merchant_name",
                "amount_mean",
                "currency",
                "period_days",
                "last_date",
                "next_expected_date",
                "confidence",
                "occurrences",
                "updated_at",
            ],
        )


def _series_points(rows) -> tuple[str, list[tuple[datetime.date, Decimal]]]:
    """(currency, [(date, amount)]) of one merchant's charges: their own
    amounts when they share a currency, else their amounts in the base
    currency (rows of the base most of them are in; unconverted rows out)."""
    currencies = {row[6] for row in rows}
    if len(currencies) == 1:
        return rows[0][6], [(row[2], row[3]) for row in rows]
    bases = Counter(row[8] for row in rows if row[7] is not None)
    if not bases:
        return "", []
    base = bases.most_common(1)[0][0]
    return base, [(row[2], row[7]) for row in rows if row[7] is not None and row[8] == base]


def recurrences_detect(*, today: datetime.date | None = None, user_ids=None) -> dict:
    """Finds every user's recurring charges and creates or updates their Recurrence rows."""
    today = today or timezone.localdate()
    groups = series = 0
    pending: list[Recurrence] = []
    for (user_id, key), rows in groupby(_spending_rows(today=today, user_ids=user_ids), key=itemgetter(0, 1)):
        rows = list(rows)
        groups += 1
        currency, points = _series_points(rows)
        found = detect_series(points, today=today)
        if found is None:
            continue
        series += 1
        merchant_id = next((row[4] for row in reversed(rows) if row[4] is not None), None)
        pending.append(
            Recurrence(
                user_id=user_id,
                merchant_key=key,
                merchant_id=merchant_id,
                merchant_name=rows[-1][5][:255],
                amount_mean=found.amount_mean,
                currency=currency,
                period_days=found.period.days,
                last_date=found.last_date,
                next_expected_date=found.next_expected_date,
                confidence=found.confidence,
                occurrences=found.occurrences,
            )
        )
        if len(pending) >= UPSERT_BATCH:
            _upsert(pending)
            pending = []
    _upsert(pending)
    return {"series_checked": groups, "recurrences": series}


def recurrence_set_dismissed(*, recurrence: Recurrence, dismissed: bool) -> Recurrence:
    recurrence.dismissed = dismissed
    recurrence.save(update_fields=["dismissed", "updated_at"])
    return recurrence


def subscription_reminders_send(*, today: datetime.date | None = None) -> dict:
    """Sends ``subscription_reminder`` for recurrences expected within the next
    3 days, once per expected date (last_reminded_for records it in the same
    transaction as the notification, so a re-run or a retry sends nothing)."""
    today = today or timezone.localdate()
    due_ids = list(
        recurrences_due_for_reminder(today=today).values_list("id", flat=True)  # ids first, then lock one at a time
    )
    sent = 0
    for recurrence_id in due_ids:
        with db_transaction.atomic():
            recurrence = (
                recurrences_due_for_reminder(today=today)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("merchant")
                .filter(id=recurrence_id)
                .first()
            )
            if recurrence is None:  # reminded meanwhile, or another worker holds it
                continue
            notify_subscription_reminder(
                user_id=recurrence.user_id,
                recurrence_id=recurrence.id,
                merchant=recurrence_display_name(recurrence),
                amount=f"{recurrence.amount_mean:.2f}",
                currency=recurrence.currency,
                expected_date=recurrence.next_expected_date.isoformat(),
            )
            recurrence.last_reminded_for = recurrence.next_expected_date
            recurrence.save(update_fields=["last_reminded_for", "updated_at"])
            sent += 1
    return {"due": len(due_ids), "sent": sent}


# Selectors


def recurrence_display_name(recurrence: Recurrence) -> str:
    if recurrence.merchant_id and recurrence.merchant is not None:
        return recurrence.merchant.canonical_name
    return recurrence.merchant_name or recurrence.merchant_key


def recurrences_due_for_reminder(*, today: datetime.date) -> QuerySet[Recurrence]:
    return Recurrence.objects.filter(
        dismissed=False,
        next_expected_date__gte=today,
        next_expected_date__lte=today + datetime.timedelta(days=REMINDER_DAYS_AHEAD),
    ).filter(Q(last_reminded_for__isnull=True) | ~Q(last_reminded_for=F("next_expected_date")))


def recurrence_list(*, user, include_dismissed: bool = False) -> QuerySet[Recurrence]:
    rows = Recurrence.objects.filter(user=user).select_related("merchant")
    if not include_dismissed:
        rows = rows.filter(dismissed=False)
    return rows.order_by("next_expected_date", "id")
