"""Demo data: a user with a year of believable money life, so a fresh
`DEMO=1 make run` has something to look at (and benchmarks something to chew).

Per demo user: a checking account (salary in, rent and bills out), a credit
card (groceries, dining, shopping, subscriptions; paid off monthly from
checking), savings (a monthly transfer), a few anomalies and refunds, budgets
for the current month (two of them over), and three holdings with prices.
Accounts, transfers, budgets and holdings go through the domain services;
the bulk of ordinary rows is prepared by ledger.transactions.services (merchant
matching, categories) and inserted in one statement. Seeding is idempotent: a
demo user who already has the demo accounts is left as is (only the password
is reset to the printed one). The randomness is seeded per user, so two runs on
the same day produce the same ledger."""

import calendar
import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction as db_transaction
from django.utils import timezone

from budgets.services import budget_upsert, current_month
from ledger.anomalies.services import anomalies_rescore_unscored
from ledger.books.services import account_create, transfer_create
from ledger.models import Account, Transaction
from ledger.portfolio.services import holding_create, holding_revalue
from ledger.transactions.services import CategoryResolver, transaction_prepare
from merchants.categories import Category

DEMO_PASSWORD = "tally-demo-2026"
CHECKING, CARD, SAVINGS = "Everyday Checking", "Rewards Card", "Rainy Day Savings"
CURRENCY = "USD"

# (merchant text as a statement shows it, category if no merchant in the list matches, low, high)
GROCERIES = [
    ("WHOLEFDS MKT #10234", Category.GROCERIES, 45, 160),
    ("TRADER JOE S #552", Category.GROCERIES, 30, 110),
    ("SAFEWAY #1711", Category.GROCERIES, 25, 140),
]
DINING = [
    ("STARBUCKS STORE 0931", Category.FOOD_DINING, 4, 12),
    ("CHIPOTLE ONLINE", Category.FOOD_DINING, 11, 28),
    ("UBER *EATS", Category.FOOD_DINING, 18, 55),
    ("SQ *LUNA TAQUERIA", Category.FOOD_DINING, 14, 40),
]
TRANSPORT = [("UBER *TRIP", Category.TRANSPORT, 9, 38), ("SHELL OIL 5744", Category.TRANSPORT, 35, 70)]
SHOPPING = [("AMZN MKTP US*2K4", Category.SHOPPING, 12, 120), ("TARGET T-1429", Category.SHOPPING, 15, 90)]
# (text, category, amount, day of month)
SUBSCRIPTIONS = [
    ("NETFLIX.COM", Category.SUBSCRIPTIONS, Decimal("15.49"), 3),
    ("SPOTIFY USA", Category.SUBSCRIPTIONS, Decimal("11.99"), 9),
    ("PLANET FIT CLUB FEES", Category.HEALTH, Decimal("24.99"), 17),
    ("ICLOUD STORAGE APPLE.COM/BILL", Category.SUBSCRIPTIONS, Decimal("2.99"), 21),
]
BILLS = [
    ("COMCAST CABLE", Category.BILLS_UTILITIES, 79, 79, 12),
    ("PG&E WEB ONLINE", Category.BILLS_UTILITIES, 60, 140, 19),
]
# One-off, much larger than usual for the category: what anomaly scoring should flag.
ANOMALIES = [
    ("BEST BUY #1402", Category.SHOPPING, Decimal("1899.00")),
    ("WHOLEFDS MKT #10234", Category.GROCERIES, Decimal("612.40")),
    ("SQ *LUNA TAQUERIA", Category.FOOD_DINING, Decimal("486.00")),
]
HOLDINGS = [
    ("stock", "AAPL", "Apple Inc.", Decimal("12"), Decimal("1850.00"), Decimal("231.40")),
    ("etf", "VTI", "Vanguard Total Stock Market ETF", Decimal("30"), Decimal("6420.00"), Decimal("268.15")),
    ("crypto", "BTC", "Bitcoin", Decimal("0.15"), Decimal("5200.00"), Decimal("61250.00")),
]
# Budgets of the current month: two set below what was already spent this month
# (over), the rest a little above the usual month (room left).
OVER_BUDGET = {Category.GROCERIES: Decimal("0.85"), Category.FOOD_DINING: Decimal("0.9")}
ROOMY_BUDGET = {
    Category.TRANSPORT: Decimal("1.2"),
    Category.SHOPPING: Decimal("1.3"),
    Category.SUBSCRIPTIONS: Decimal("1.1"),
}


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    created: bool
    transactions: int


def demo_email(index: int) -> str:
    return "demo@tally.local" if index == 0 else f"demo{index + 1}@tally.local"


def demo_seed(*, users: int = 1, months: int = 12, today: datetime.date | None = None) -> list[DemoLogin]:
    today = today or timezone.localdate()
    return [demo_user_seed(email=demo_email(i), months=months, today=today, seed=i) for i in range(users)]


def _month_starts(today: datetime.date, months: int) -> list[datetime.date]:
    first = today.replace(day=1)
    starts = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        starts.append(datetime.date(year, month + 1, 1))
    return starts


def _day(month_start: datetime.date, day: int) -> datetime.date:
    return month_start.replace(day=min(day, calendar.monthrange(month_start.year, month_start.month)[1]))


def _money(rng: random.Random, low, high) -> Decimal:
    return Decimal(rng.randint(int(low * 100), int(high * 100))) / 100


def demo_user_seed(*, email: str, months: int, today: datetime.date, seed: int = 0) -> DemoLogin:
    user_model = get_user_model()
    with db_transaction.atomic():
        user = user_model.objects.filter(email=email).first()
        if user is None:
            user = user_model.objects.create_user(email=email, password=DEMO_PASSWORD, full_name="Demo User")
        else:
            user.set_password(DEMO_PASSWORD)
        user.is_verified = True
        user.save()
        if Account.objects.filter(user=user, name=CHECKING).exists():
            count = Transaction.objects.filter(user=user).count()
            return DemoLogin(email=email, password=DEMO_PASSWORD, created=False, transactions=count)
        count = _seed_ledger(user=user, months=months, today=today, rng=random.Random(f"tally-demo-{seed}"))
    # Outside the seeding block: the rows are committed, so the scores (and alerts) see all of them.
    anomalies_rescore_unscored(today=today, user_ids=[user.pk])
    return DemoLogin(email=email, password=DEMO_PASSWORD, created=True, transactions=count)


def _seed_ledger(*, user, months: int, today: datetime.date, rng: random.Random) -> int:
    starts = _month_starts(today, months)
    opened = starts[0] - datetime.timedelta(days=1)
    common = {"user": user, "currency": CURRENCY, "opening_date": opened, "institution": "Demo Bank"}
    checking = account_create(
        name=CHECKING, kind=Account.Kind.CHECKING, number_mask="4821", opening_balance=Decimal("2400.00"),
        is_default=True, **common,
    )  # fmt: skip
    card = account_create(name=CARD, kind=Account.Kind.CREDIT_CARD, number_mask="9007", **common)
    savings = account_create(
        name=SAVINGS, kind=Account.Kind.SAVINGS, number_mask="3350", opening_balance=Decimal("6000.00"), **common
    )

    planned: list[tuple] = []  # (account, date, amount, merchant text, fallback category)
    for month_start in starts:

        def add(account, day, amount, text, category, month_start=month_start):
            when = _day(month_start, day)
            if when <= today:
                planned.append((account, when, amount, text, category))

        add(checking, 1, Decimal("-2350.00"), "ACME CORP PAYROLL", Category.INCOME)
        add(checking, 15, Decimal("-2350.00"), "ACME CORP PAYROLL", Category.INCOME)
        add(checking, 1, Decimal("1650.00"), "PARKVIEW APARTMENTS RENT", Category.HOUSING)
        for text, category, low, high, day in BILLS:
            add(checking, day, _money(rng, low, high), text, category)
        for text, category, amount, day in SUBSCRIPTIONS:
            add(card, day, amount, text, category)
        for week in range(5):
            text, category, low, high = rng.choice(GROCERIES)
            add(card, 2 + week * 6 + rng.randint(0, 2), _money(rng, low, high), text, category)
        for _ in range(rng.randint(7, 11)):
            text, category, low, high = rng.choice(DINING)
            add(card, rng.randint(1, 28), _money(rng, low, high), text, category)
        for _ in range(rng.randint(3, 6)):
            text, category, low, high = rng.choice(TRANSPORT)
            add(card, rng.randint(1, 28), _money(rng, low, high), text, category)
        for _ in range(rng.randint(1, 3)):
            text, category, low, high = rng.choice(SHOPPING)
            add(card, rng.randint(1, 28), _money(rng, low, high), text, category)
        add(savings, 28, Decimal("-4.12"), "INTEREST PAYMENT", Category.INCOME)

    # This month so far always has groceries and dining, so its budgets have something to be over.
    month_start = today.replace(day=1)
    for offset, (text, category, low, high) in enumerate((GROCERIES[0], DINING[2], GROCERIES[1], DINING[1])):
        planned.append(
            (card, min(today, month_start + datetime.timedelta(days=offset)), _money(rng, low, high), text, category)
        )
    # A few refunds (money back: negative) and anomalies spread over the year.
    for index, (text, category, amount) in enumerate(ANOMALIES):
        when = max(starts[0], today - datetime.timedelta(days=40 + 95 * index))
        planned.append((card, when, amount, text, category))
    for days_ago in (20, 150):
        when = max(starts[0], today - datetime.timedelta(days=days_ago))
        planned.append((card, when, -_money(rng, 20, 80), "AMZN MKTP US*2K4 REFUND", Category.SHOPPING))

    rows = _prepare(user=user, planned=planned)
    Transaction.objects.bulk_create(rows, batch_size=1000)

    # Transfers through the books service (both legs, linked): savings every month,
    # and the card's previous month paid from checking.
    card_spent: dict[datetime.date, Decimal] = {}
    for account, when, amount, _text, _category in planned:
        if account is card:
            key = when.replace(day=1)
            card_spent[key] = card_spent.get(key, Decimal("0")) + amount
    transfers = 0
    for index, start in enumerate(starts):
        saving_day = _day(start, 16)
        if saving_day <= today:
            transfer_create(
                user=user, from_account=checking, to_account=savings, amount=Decimal("400.00"), date=saving_day
            )
            transfers += 2
        previous = starts[index - 1] if index else None
        payment_day = _day(start, 5)
        if previous and card_spent.get(previous, 0) > 0 and payment_day <= today:
            transfer_create(
                user=user, from_account=checking, to_account=card, amount=card_spent[previous], date=payment_day,
                notes="Card payment",
            )  # fmt: skip
            transfers += 2

    _seed_budgets(user=user, today=today, months=len(starts))
    for asset_type, identifier, name, units, cost, price in HOLDINGS:
        holding = holding_create(
            user=user, asset_type=asset_type, identifier=identifier, name=name, units=units, cost_basis=cost,
            currency=CURRENCY,
        )  # fmt: skip
        holding_revalue(holding=holding, price=price, source="demo")
    return len(rows) + transfers


def _prepare(*, user, planned) -> list[Transaction]:
    resolver = CategoryResolver(user)
    resolver.prefetch({text for _a, _d, _amount, text, _c in planned})
    rows = []
    for account, when, amount, text, fallback in planned:
        row = transaction_prepare(
            user=user, account=account, amount=amount, date=when, merchant_raw=text, resolver=resolver,
            source=Transaction.Source.MANUAL,
        )  # fmt: skip
        if row.category == Category.UNCATEGORIZED:  # no merchant list loaded, or not in it
            row.category, row.confidence = fallback, {"category": 1.0, "method": "demo"}
        rows.append(row)
    return rows


def _spent_by_category(*, user, start: datetime.date, end: datetime.date) -> dict[str, Decimal]:
    spent: dict[str, Decimal] = {}
    rows = Transaction.objects.filter(user=user, date__gte=start, date__lte=end, kind=Transaction.Kind.STANDARD)
    for category, amount in rows.values_list("category", "amount"):
        spent[category] = spent.get(category, Decimal("0")) + amount
    return spent


def _seed_budgets(*, user, today: datetime.date, months: int) -> None:
    start, end = current_month(today)
    this_month = _spent_by_category(user=user, start=start, end=today)
    history_start = _month_starts(today, months)[0]
    full_months = max(1, months - 1)
    before = _spent_by_category(user=user, start=history_start, end=start - datetime.timedelta(days=1))
    amounts = {category: this_month.get(category, Decimal("0")) * share for category, share in OVER_BUDGET.items()} | {
        category: before.get(category, Decimal("0")) / full_months * share for category, share in ROOMY_BUDGET.items()
    }
    for category, amount in amounts.items():
        amount = max(Decimal("10"), amount.quantize(Decimal("1")))
        budget_upsert(user=user, category=category, amount=amount, start_date=start, end_date=end)
