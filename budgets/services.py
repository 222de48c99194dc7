"""Every write of the budgets app: budgets (upsert, update, delete),
renewal into closed periods, and budget alerts after the ledger changes."""

import calendar
import datetime
import time
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from budgets.errors import BudgetErrorCode
from budgets.models import Budget, BudgetPeriod
from budgets.selectors import budget_annotate_spending, overview_cache_key
from config.cache import best_effort, cache_delete_many
from config.errors import Conflict, Invalid
from config.redis import get_redis
from ledger.transactions.selectors import category_spent
from realtime import services as realtime_services

STATUS_CACHE_SECONDS = 30
# Alert levels in percent of the budget, lowest first (DESIGN.md budget_alert).
ALERT_LEVELS = ((80, "warning"), (90, "critical"), (100, "exceeded"), (110, "severe"))
ALERT_REPEAT_COOLDOWN_SECONDS = 3600
# Periods one renewal closes at most: a request's work stays bounded (three years of
# months); a budget further behind is renewed again where this one stopped.
MAX_CATCH_UP_PERIODS = 36

# numeric(12, 2): what a converted budget amount must stay under.
BUDGET_AMOUNT_LIMIT = Decimal("10000000000")

_UPDATABLE_FIELDS = ("category", "amount", "start_date", "end_date", "auto_renew")


def status_cache_key(user_id) -> str:
    return f"budgets:status:{user_id}"


def budget_figures_invalidate(*, user_id) -> None:
    """Drop the cached budget figures now: the status and the list's rows."""
    cache_delete_many([status_cache_key(user_id), overview_cache_key(user_id)])


def budget_status_invalidate(*, user_id) -> None:
    """Drop the cached figures (status, list) after the write commits, so a
    reader cannot cache figures from before the write in the gap. Best
    effort: the write has committed, and figures cached before a Redis outage
    expire with their TTL."""
    transaction.on_commit(lambda: budget_figures_invalidate(user_id=user_id))


def current_month(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or timezone.localdate()
    return today.replace(day=1), today.replace(day=calendar.monthrange(today.year, today.month)[1])


def _check_dates(start_date, end_date) -> None:
    if end_date <= start_date:
        raise Invalid("Must be after start_date.", code=BudgetErrorCode.INVALID, attr="end_date")


def _existing_conflict(*, user, category, exclude_id=None) -> Conflict:
    existing = Budget.objects.filter(user=user, category=category).exclude(pk=exclude_id).first()
    return Conflict(
        f"A budget for {category} already exists.",
        code=BudgetErrorCode.DUPLICATE,
        existing_id=str(existing.pk) if existing else None,
    )


@transaction.atomic
def budget_upsert(
    *, user, category: str, amount: Decimal, start_date=None, end_date=None, auto_renew: bool | None = None
) -> tuple[Budget, bool]:
    """Create the user's budget for ``category`` or update the one that
    exists (one per user and category). Dates default to the current
    calendar month for a new budget. Returns (budget, created)."""
    budget = Budget.objects.select_for_update().filter(user=user, category=category).first()
    if budget is None:
        default_start, default_end = current_month()
        budget = Budget(
            user=user,
            category=category,
            amount=amount,
            start_date=start_date or default_start,
            end_date=end_date or default_end,
            auto_renew=True if auto_renew is None else auto_renew,
        )
        _check_dates(budget.start_date, budget.end_date)
        try:
            with transaction.atomic():
                budget.save(force_insert=True)
        except IntegrityError:
            # A concurrent upsert inserted first: update that row instead.
            budget = Budget.objects.select_for_update().get(user=user, category=category)
        else:
            budget_status_invalidate(user_id=user.pk)
            # Spending may already be past a level of the new budget.
            budget_alerts_evaluate(user_id=user.pk, categories=[category])
            return budget, True
    changes = {"amount": amount, "start_date": start_date, "end_date": end_date, "auto_renew": auto_renew}
    return budget_update(budget=budget, data={k: v for k, v in changes.items() if v is not None}), False


@transaction.atomic
def budget_create(
    *, user, category: str, amount: Decimal, start_date=None, end_date=None, auto_renew: bool | None = None
) -> Budget:
    """A new budget only (the admin's add page): the category's existing
    budget is a 409 carrying its id instead of being updated."""
    if Budget.objects.filter(user=user, category=category).exists():
        raise _existing_conflict(user=user, category=category)
    budget, created = budget_upsert(
        user=user, category=category, amount=amount, start_date=start_date, end_date=end_date, auto_renew=auto_renew
    )
    if not created:  # inserted concurrently, and updated by the upsert: still not what was asked
        raise _existing_conflict(user=user, category=category, exclude_id=None)
    return budget


# A change to any of these moves the percentage, so alert levels are re-checked.
_ALERT_INPUTS = ("amount", "start_date", "end_date", "category")


@transaction.atomic
def budget_update(*, budget: Budget, data: dict) -> Budget:
    """Edit category, amount, dates or auto_renew of a budget (row locked,
    only the edited columns written, so an alert sent meanwhile keeps its
    state). A new category starts its alert levels afresh; moved dates of
    the same period keep the levels already sent."""
    budget = Budget.objects.select_for_update().get(pk=budget.pk)
    before = {name: getattr(budget, name) for name in _ALERT_INPUTS}
    changed = [field for field in _UPDATABLE_FIELDS if field in data and data[field] != getattr(budget, field)]
    for field in changed:
        setattr(budget, field, data[field])
    _check_dates(budget.start_date, budget.end_date)
    if "category" in changed:
        budget.alert_period_start, budget.alert_level, budget.alert_max_level = None, 0, 0
        changed += ["alert_period_start", "alert_level", "alert_max_level"]
    elif "start_date" in changed and budget.alert_period_start == before["start_date"]:
        budget.alert_period_start = budget.start_date
        changed.append("alert_period_start")
    if not changed:
        return budget
    try:
        with transaction.atomic():
            budget.save(update_fields=[*changed, "updated_at"])
    except IntegrityError:
        raise _existing_conflict(user=budget.user, category=budget.category, exclude_id=budget.pk)
    budget_status_invalidate(user_id=budget.user_id)
    if any(getattr(budget, name) != value for name, value in before.items()):
        # Lowering a budget can put spending past a level without any new transaction.
        budget_alerts_evaluate(user_id=budget.user_id, categories=[budget.category])
    return budget


@transaction.atomic
def budget_delete(*, budget: Budget) -> None:
    user_id = budget.user_id
    budget.delete()
    budget_status_invalidate(user_id=user_id)


def next_period(start_date: datetime.date, end_date: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The period after start..end, of the same length, from the day after
    end_date. A period of whole calendar months renews as the same number of
    calendar months (January renews as February, not as 31 days)."""
    new_start = end_date + datetime.timedelta(days=1)
    last_day = calendar.monthrange(end_date.year, end_date.month)[1]
    if start_date.day == 1 and end_date.day == last_day:
        months = (end_date.year - start_date.year) * 12 + end_date.month - start_date.month + 1
        index = new_start.year * 12 + new_start.month - 1 + months - 1
        year, month = divmod(index, 12)
        month += 1
        return new_start, datetime.date(year, month, calendar.monthrange(year, month)[1])
    return new_start, new_start + (end_date - start_date)


def _period_spent(*, budget: Budget) -> Decimal:
    return category_spent(user=budget.user_id, category=budget.category, start=budget.start_date, end=budget.end_date)


def _close_and_advance(budget: Budget) -> BudgetPeriod:
    period, _ = BudgetPeriod.objects.get_or_create(
        budget=budget,
        start_date=budget.start_date,
        defaults={
            "category": budget.category,
            "end_date": budget.end_date,
            "amount": budget.amount,
            "spent": _period_spent(budget=budget),
        },
    )
    budget.start_date, budget.end_date = next_period(budget.start_date, budget.end_date)
    budget.alert_period_start, budget.alert_level, budget.alert_max_level = None, 0, 0
    return period


def budget_renew(
    *,
    budget: Budget,
    catch_up: bool = False,
    today: datetime.date | None = None,
    max_periods: int = MAX_CATCH_UP_PERIODS,
) -> Budget:
    """Close the budget's ended period into a BudgetPeriod and move the budget
    to the next one. 409 if the period has not ended (or was just renewed);
    409 if it ended more than one period ago, unless ``catch_up``, which
    renews period by period until the current one contains today, at most
    ``max_periods`` of them. The budget comes back with ``periods_renewed``
    and ``caught_up`` (False: renew again to continue)."""
    today = today or timezone.localdate()
    with transaction.atomic():
        # Lock first and decide on the locked row: two renewals (a user's click
        # and the nightly job) must not both close the same period.
        budget = Budget.objects.select_for_update().get(pk=budget.pk)
        if budget.end_date >= today:
            just_renewed = BudgetPeriod.objects.filter(
                budget=budget, end_date=budget.start_date - datetime.timedelta(days=1)
            ).exists()
            if just_renewed:
                raise Conflict(
                    f"This budget was already renewed; its period runs until {budget.end_date}.",
                    code=BudgetErrorCode.ALREADY_RENEWED,
                )
            raise Conflict(
                f"The budget's period has not ended yet (it ends {budget.end_date}).", code=BudgetErrorCode.NOT_ENDED
            )
        _, following_end = next_period(budget.start_date, budget.end_date)
        if following_end < today and not catch_up:
            raise Conflict(
                f"The budget ended on {budget.end_date}, more than one period ago. "
                "Renew with catch_up=true to renew it period by period up to today.",
                code=BudgetErrorCode.PERIODS_MISSED,
            )
        renewed = 0
        while budget.end_date < today and renewed < max_periods:
            _close_and_advance(budget)
            renewed += 1
        budget.save()
        budget_status_invalidate(user_id=budget.user_id)
    budget.periods_renewed, budget.caught_up = renewed, budget.end_date >= today
    return budget


def renew_due_budgets(*, today: datetime.date | None = None) -> int:
    """Renew every auto-renewing budget whose period has ended, catching up
    missed periods. Idempotent: a second run finds nothing due. Returns the
    number of budgets renewed."""
    today = today or timezone.localdate()
    renewed = 0
    due_ids = Budget.objects.filter(auto_renew=True, end_date__lt=today).values_list("pk", flat=True)
    for budget_id in list(due_ids):
        try:
            # One transaction per MAX_CATCH_UP_PERIODS periods, so no lock is held for long.
            while not budget_renew(budget=Budget(pk=budget_id), catch_up=True, today=today).caught_up:
                pass
        except Conflict:
            continue  # renewed meanwhile by the user or a parallel run
        except Budget.DoesNotExist:
            continue  # deleted meanwhile
        renewed += 1
    return renewed


def _level_for(percentage: Decimal) -> int:
    reached = 0
    for threshold, _name in ALERT_LEVELS:
        if percentage >= threshold:
            reached = threshold
    return reached


def _cooldown_key(user_id, category: str) -> str:
    return f"budgets:alert-cooldown:{user_id}:{category}"


def _repeat_allowed(*, user_id, category: str) -> bool:
    """A repeat of a level already sent this period waits an hour per user and
    category. The key holds the last alert's time and expires with the hour
    (SET NX EX); the stored time also decides, so a clock that moved on (a
    test's time travel, a Redis that has not expired the key yet) is honoured.
    Redis down holds the repeat back (a first crossing of a level needs no
    cooldown and is still sent)."""
    key, now = _cooldown_key(user_id, category), time.time()

    def check() -> bool:
        client = get_redis()
        if client.set(key, now, nx=True, ex=ALERT_REPEAT_COOLDOWN_SECONDS):
            return True
        last = client.get(key)
        if last is not None and now - float(last) < ALERT_REPEAT_COOLDOWN_SECONDS:
            return False
        client.set(key, now, ex=ALERT_REPEAT_COOLDOWN_SECONDS)
        return True

    return best_effort(check, default=False, what="budget alert repeat (cooldown check)")


def _start_cooldown(*, user_id, category: str) -> None:
    best_effort(
        lambda: get_redis().set(_cooldown_key(user_id, category), time.time(), ex=ALERT_REPEAT_COOLDOWN_SECONDS),
        default=None,
        what="budget alert cooldown start",
    )


def budget_alerts_evaluate(*, user_id, categories, today: datetime.date | None = None) -> list[dict]:
    """Re-evaluate the user's current-period budgets of ``categories`` after
    their transactions changed, and send ``budget_alert`` for the highest
    level that spending crossed upwards. One query for the figures; a write
    only when a budget's level moves.

    A level is sent once when first reached in a period. Falling below it
    (a refund, a delete) re-arms it; crossing it again is a repeat, sent only
    if no alert went out for that user and category in the last hour.
    Returns the payloads sent."""
    categories = [c for c in (categories or ()) if c]
    if not categories:
        return []
    today = today or timezone.localdate()
    budgets = budget_annotate_spending(
        Budget.objects.filter(user_id=user_id, category__in=categories, start_date__lte=today, end_date__gte=today)
    )
    sent = []
    for budget in budgets:
        same_period = budget.alert_period_start == budget.start_date
        level_before = budget.alert_level if same_period else 0
        max_before = budget.alert_max_level if same_period else 0
        level_now = _level_for(budget.percentage)
        if level_now == level_before and same_period:
            continue
        # Compare-and-set on the state read above: of two evaluations racing on
        # the same budget only one moves the level and sends.
        moved = Budget.objects.filter(
            pk=budget.pk,
            alert_period_start=budget.alert_period_start,
            alert_level=budget.alert_level,
            alert_max_level=budget.alert_max_level,
        ).update(
            alert_period_start=budget.start_date, alert_level=level_now, alert_max_level=max(level_now, max_before)
        )
        if not moved or level_now <= level_before:
            continue
        if level_now > max_before:
            _start_cooldown(user_id=user_id, category=budget.category)
        elif not _repeat_allowed(user_id=user_id, category=budget.category):
            continue
        payload = {
            "user_id": user_id,
            "category": budget.category,
            "budget": f"{budget.amount:.2f}",
            "spent": f"{budget.spent:.2f}",
            "percentage": float(budget.percentage),
            "remaining": f"{budget.remaining:.2f}",
            "level": dict(ALERT_LEVELS)[level_now],
        }
        transaction.on_commit(lambda p=payload: realtime_services.notify_budget_alert(**p))
        sent.append(payload)
    return sent


def transactions_changed_handle(*, user_id, categories, today: datetime.date | None = None) -> list[dict]:
    """What budgets does when the ledger reports a change: the status figures
    are stale, and alerts may be due. The alerts are decided and stored in
    PostgreSQL, so a Redis outage must not stop them."""
    budget_figures_invalidate(user_id=user_id)
    return budget_alerts_evaluate(user_id=user_id, categories=categories, today=today)


@transaction.atomic
def budgets_convert_base(*, user_id, old: str, new: str, on: datetime.date) -> dict:
    """A base-currency change (inside its transaction): budget amounts are
    in the base currency, so each is converted at the rate of the change
    date (or the closest earlier within 7 days, as a transaction would be),
    rounded half up to the cent and never below 0.01; closed periods'
    amount and spent likewise, so past periods still compare like with like.
    A 500.00 USD budget kept as "500.00" after a switch to JPY would be a
    different budget. Without a rate the amounts are kept and the answer
    says so (kept > 0): they are then read in the new currency until edited.
    -> {"budgets": {converted, kept, rate, rate_date}}"""
    from django.db.models import DecimalField, F, Max, Value
    from django.db.models.functions import Greatest, Round

    from ledger.currency.selectors import conversion

    budgets = Budget.objects.filter(user_id=user_id)
    count = budgets.count()
    found = conversion(amount=Decimal(1), from_currency=old, to_currency=new, on=on)
    rate = found["rate"]
    if not count or rate is None:
        return {"budgets": {"converted": 0, "kept": count, "rate": rate, "rate_date": found["rate_date"]}}
    largest = budgets.aggregate(largest=Max("amount"))["largest"]
    if largest * rate >= BUDGET_AMOUNT_LIMIT:
        raise Invalid(
            f"A budget of {largest} {old} is more than a budget can hold in {new}; lower it first.",
            code=BudgetErrorCode.INVALID,
            attr="base_currency",
        )
    money = Budget._meta.get_field("amount")
    factor = Value(rate, output_field=DecimalField(max_digits=30, decimal_places=10))
    floor = Value(Decimal("0.01"), output_field=money)

    def converted(name):
        return Greatest(Round(F(name) * factor, 2, output_field=money), floor)

    budgets.update(amount=converted("amount"))
    BudgetPeriod.objects.filter(budget__user_id=user_id).update(
        amount=converted("amount"), spent=Round(F("spent") * factor, 2, output_field=money)
    )
    budget_status_invalidate(user_id=user_id)
    return {"budgets": {"converted": count, "kept": 0, "rate": rate, "rate_date": found["rate_date"]}}
