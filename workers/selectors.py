"""Reads for jobs that span apps (the weekly summary)."""

import datetime
from decimal import Decimal

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from accounts.models import User
from ledger.currency.selectors import unconverted
from ledger.transactions.selectors import transactions_between

ZERO = Decimal("0.00")


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
    by_category = list(
        everything.filter(converted)
        .values("category")
        .annotate(spent=Sum("amount_base"), count=Count("id"))
        .order_by("-spent", "category")
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
