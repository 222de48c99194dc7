"""Reads for jobs that span apps (the weekly summary, the monthly report)."""

import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import User
from ledger.currency.selectors import unconverted
from ledger.transactions.selectors import category_stats, transactions_between

ZERO = Decimal("0.00")
# The monthly report lists this many of the month's largest spending categories.
TOP_CATEGORIES = 5


def week_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last full Monday..Sunday week before ``today``."""
    this_monday = today - datetime.timedelta(days=today.weekday())
    start = this_monday - datetime.timedelta(days=7)
    return start, start + datetime.timedelta(days=6)


def weekly_summary_recipients(*, week_start: datetime.date, week_end: datetime.date) -> QuerySet[User]:
    """Active users with at least one transaction that week who have not
    switched the summary off in their preferences."""
    active_that_week = transactions_between(user=OuterRef("pk"), start=week_start, end=week_end)
    return (
        User.objects.filter(is_active=True)
        .filter(Exists(active_that_week))
        .exclude(preferences__notifications__weekly_summary=False)
        .order_by("pk")
    )


def weekly_summary_build(*, user: User, week_start: datetime.date, week_end: datetime.date) -> dict:
    from budgets.selectors import budget_list

    everything = transactions_between(user=user, start=week_start, end=week_end)
    # Totals in the base currency: rows without an amount in it are listed in `unconverted`, never added at 1.
    converted = Q(amount_base__isnull=False, base_currency=user.base_currency)
    totals = everything.aggregate(
        spent=Sum("amount_base", filter=converted & Q(amount_base__gt=0)),
        received=Sum("amount_base", filter=converted & Q(amount_base__lt=0)),
        count=Count("id"),
    )
    # Split lines count by their own category (the shared selector the budgets use).
    stats = category_stats(user=user, since=week_start, until=week_end)
    by_category = sorted(
        ({"category": category, "spent": row["total"], "count": row["count"]} for category, row in stats.items()),
        key=lambda row: (-row["spent"], row["category"]),
    )
    budgets = {budget.category: budget for budget in budget_list(user=user)}
    categories = []
    for row in by_category:
        budget = budgets.get(row["category"])
        categories.append(
            {
                "category": row["category"],
                "spent": row["spent"],
                "count": row["count"],
                "budget": budget.amount if budget else None,
                "period_spent": budget.spent if budget else None,
                "percentage": budget.percentage if budget else None,
                "status": budget.status if budget else None,
            }
        )
    top_merchants = list(
        everything.filter(converted, amount_base__gt=0)
        .values("merchant_raw")
        .annotate(spent=Sum("amount_base"), count=Count("id"))
        .order_by("-spent", "merchant_raw")[:5]
    )
    return {
        "currency": user.base_currency,
        "unconverted": unconverted(everything, base_currency=user.base_currency),
        "week_start": week_start,
        "week_end": week_end,
        "total_spent": totals["spent"] or ZERO,
        "total_received": -(totals["received"] or ZERO),
        "transaction_count": totals["count"],
        "categories": categories,
        "top_merchants": top_merchants,
    }


def month_bounds(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last full calendar month before ``today``."""
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


def monthly_report_recipients(*, month_start: datetime.date, month_end: datetime.date) -> QuerySet[User]:
    """Active users with at least one transaction that month who have not
    switched the monthly report off in their preferences."""
    active_that_month = transactions_between(user=OuterRef("pk"), start=month_start, end=month_end)
    return (
        User.objects.filter(is_active=True)
        .filter(Exists(active_that_month))
        .exclude(preferences__notifications__monthly_report=False)
        .order_by("pk")
    )


def _top_categories(*, user, month_start, month_end, previous_start) -> list[dict]:
    from budgets.selectors import percent
    from ledger.reports.selectors import spending_report

    spending = spending_report(user=user, since=previous_start, until=month_end, group_by="category")
    by_period = {p["period"]: {g["key"]: g["amount"] for g in p["groups"]} for p in spending["periods"]}
    current, previous = by_period.get(month_start, {}), by_period.get(previous_start, {})
    rows = []
    for category, amount in sorted(current.items(), key=lambda item: (-item[1], item[0]))[:TOP_CATEGORIES]:
        before = previous.get(category, ZERO)
        rows.append(
            {
                "category": category,
                "amount": amount,
                "previous": before,
                "change": amount - before,
                "change_percentage": percent(amount - before, abs(before)),
            }
        )
    return rows


def monthly_report_build(*, user: User, month_start: datetime.date, month_end: datetime.date) -> dict:
    """Last month in figures, from the report selectors (base currency,
    transfers excluded, splits by line): cash flow, the top spending
    categories against the month before, the budget periods that went over,
    and the subscriptions first detected that month."""
    from budgets.reports import budget_performance_report, months_back
    from budgets.selectors import STATUS_OVER
    from ledger.recurrences.services import recurrence_display_name, recurrence_list
    from ledger.reports.selectors import cashflow_report

    previous_start = months_back(month_start, 1)
    cashflow = cashflow_report(user=user, since=month_start, until=month_end)
    month = cashflow["periods"][0] if cashflow["periods"] else {}
    budgets = budget_performance_report(user=user, months=1, today=month_end)
    new_recurrences = recurrence_list(user=user).filter(
        created_at__date__gte=month_start, created_at__date__lte=month_end
    )
    return {
        "currency": user.base_currency,
        "month": month_start,
        "previous_month": previous_start,
        "cashflow": {
            "income": month.get("income", ZERO),
            "spending": month.get("spending", ZERO),
            "net": month.get("net", ZERO),
            "savings_rate": month.get("savings_rate"),
        },
        "unconverted": cashflow["unconverted"],
        "top_categories": _top_categories(
            user=user, month_start=month_start, month_end=month_end, previous_start=previous_start
        ),
        "budgets_over": [
            {
                "category": budget["category"],
                "start_date": period["start_date"],
                "end_date": period["end_date"],
                "budget": period["budget"],
                "spent": period["spent"],
                "percentage": period["percentage"],
            }
            for budget in budgets["budgets"]
            for period in budget["periods"]
            if period["status"] == STATUS_OVER
        ],
        "new_subscriptions": [
            {
                "merchant": recurrence_display_name(recurrence),
                "amount": recurrence.amount_mean,
                "period_days": recurrence.period_days,
                "next_expected_date": recurrence.next_expected_date,
            }
            for recurrence in new_recurrences.order_by("created_at")
        ],
    }


# The admin index's counts: cheap enough to run often, cached briefly so a
# busy admin does not repeat them on every page load.
ADMIN_DASHBOARD_CACHE_KEY = "tally:admin-dashboard"
ADMIN_DASHBOARD_CACHE_SECONDS = 60
# Rows that came from a statement file (the old CSV endpoint and the preview/commit flow).
IMPORTED_SOURCES = ("csv", "import")
ALERT_TYPES = ("budget_alert", "anomaly_alert", "integrity_alert")


def admin_dashboard(*, now: datetime.datetime | None = None, use_cache: bool = True) -> dict:
    """What staff should see first: users active this week (a session used
    in the last 7 days), transactions imported today (by file), imports that
    failed in the last 7 days, dead letters not requeued, the last anchoring
    batch's integrity status, and the alerts of the last 24 hours by type."""
    from config.cache import cache_get, cache_set

    if use_cache and (cached := cache_get(ADMIN_DASHBOARD_CACHE_KEY)) is not None:
        return cached
    from accounts.models import Session
    from ledger.models import Import, MerkleBatch, Transaction
    from realtime.models import Notification
    from workers.models import DeadLetter

    now = now or timezone.now()
    week_ago = now - datetime.timedelta(days=7)
    day_ago = now - datetime.timedelta(hours=24)
    today_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    batch = MerkleBatch.objects.order_by("-batch_date").values("id", "batch_date", "verification_ok").first()
    alerts = dict(
        Notification.objects.filter(type__in=ALERT_TYPES, created_at__gte=day_ago)
        .values_list("type")
        .annotate(n=Count("id"))
        .order_by()
    )
    dashboard = {
        "computed_at": now,
        "week_ago": week_ago,
        "day_ago": day_ago,
        "today_start": today_start,
        "active_users": Session.objects.filter(last_used_at__gte=week_ago).values("user").distinct().count(),
        "imported_today": Transaction.objects.filter(
            source__in=IMPORTED_SOURCES, created_at__gte=today_start, is_deleted=False
        ).count(),
        "imports_failed": Import.objects.filter(status=Import.Status.FAILED, updated_at__gte=week_ago).count(),
        "dead_letters": DeadLetter.objects.filter(requeued_at__isnull=True).count(),
        "last_batch": batch,
        "alerts": {alert_type: alerts.get(alert_type, 0) for alert_type in ALERT_TYPES},
    }
    cache_set(ADMIN_DASHBOARD_CACHE_KEY, dashboard, ADMIN_DASHBOARD_CACHE_SECONDS)
    return dashboard
