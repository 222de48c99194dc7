"""Reports benchmark: one user with N transactions over two accounts (seeded
with bulk_create into its own user, removed afterwards), a few transfers
among them, 1 % of rows split in two, and ten monthly budgets with twelve
closed periods each. Times each report selector over the last 12 months, the
budgets report, net worth, and the live dashboard's API calls together (in
process, through the URL router and serializers), and prints one JSON line.

    DATABASE_URL=... .venv/bin/python bench/reports.py --transactions 100000 --iterations 30

--other-rows 900000 first seeds that many rows for another user (removed
afterwards), so the measured user is one of many: the issue's "100k for one
user among 1M".

Seeding 1M rows takes minutes: --keep leaves the seeded users and their rows
in the database (their e-mails are in the JSON line), and --reuse EMAIL
measures such a kept user again without seeding or removing anything.
"""

import argparse
import datetime
import json
import os
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.timing import timed  # noqa: E402
from budgets.models import Budget, BudgetPeriod  # noqa: E402
from budgets.reports import budget_performance_report, months_back  # noqa: E402
from config.renderers import FastJSONRenderer  # noqa: E402
from ledger.books.selectors import net_worth_series  # noqa: E402
from ledger.models import Account, SplitLine, Transaction  # noqa: E402
from ledger.reports import selectors  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402


def seed(user, *, transactions, days, batch=5000, budgets=True):
    today = datetime.date.today()
    rng = random.Random(42)
    accounts = [
        Account.objects.create(user=user, name="Bench checking", currency="USD", is_default=True),
        Account.objects.create(user=user, name="Bench card", currency="USD", kind="credit_card"),
        Account.objects.create(user=user, name="Bench euro", currency="EUR", is_default=True),
    ]
    rows = []
    for n in range(transactions):
        account = accounts[2] if n % 50 == 0 else rng.choice(accounts[:2])
        category = "Income" if n % 40 == 0 else rng.choice(CATEGORY_NAMES)
        amount = Decimal(rng.randint(100, 20000)) / 100
        rows.append(
            Transaction(
                user=user,
                account=account,
                currency=account.currency,
                kind="transfer" if n % 97 == 0 else "standard",
                amount=-amount * 20 if category == "Income" else amount,
                date=today - datetime.timedelta(days=rng.randrange(days)),
                merchant_raw=f"Bench Merchant {n % 500}",
                merchant_normalized=f"bench merchant {n % 500}",
                category=category,
                is_deleted=rng.random() < 0.02,
            )
        )
        if len(rows) == batch:
            _store(rows)
            rows = []
    _store(rows)
    if budgets:
        _seed_budgets(user, today)


def _store(rows):
    """Rows, and every 100th standard non-Income row split into two lines (is_split set)."""
    Transaction.objects.bulk_create(rows)
    split = [t for i, t in enumerate(rows) if i % 100 == 7 and t.kind == "standard" and t.category != "Income"]
    lines = []
    for t in split:
        part = (t.amount / 3).quantize(Decimal("0.01"))
        lines += [
            SplitLine(transaction=t, position=0, amount=part, category="Groceries"),
            SplitLine(transaction=t, position=1, amount=t.amount - part, category=t.category),
        ]
    SplitLine.objects.bulk_create(lines)
    Transaction.objects.filter(pk__in=[t.pk for t in split]).update(is_split=True)


def _seed_budgets(user, today):
    """Ten monthly budgets on this month, each with the twelve months before closed into periods."""
    import calendar

    first = today.replace(day=1)
    for category in CATEGORY_NAMES[:10]:
        end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        budget = Budget.objects.create(
            user=user, category=category, amount=Decimal("400.00"), start_date=first, end_date=end
        )
        periods = []
        for back in range(1, 13):
            start = months_back(first, back)
            periods.append(
                BudgetPeriod(
                    budget=budget,
                    category=category,
                    start_date=start,
                    end_date=start.replace(day=calendar.monthrange(start.year, start.month)[1]),
                    amount=Decimal("400.00"),
                    spent=Decimal("0"),
                )
            )
        BudgetPeriod.objects.bulk_create(periods)


def _spending_json(**query):
    """The spending report's JSON answer, rendered (the view's path without the request)."""
    return FastJSONRenderer().render(selectors.spending_report_json(**query))


def _api_call(user, path, query):
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(user=user)

    def run():
        response = client.get(path, query)
        assert response.status_code == 200, (path, response.content[:300])

    return run


def dashboard_calls(user, today):
    """The live page's reads after sign-in, in process: (path, query) in the order the page sends them."""
    from rest_framework.test import APIClient

    client = APIClient(SERVER_NAME="localhost")
    client.force_authenticate(user=user)
    first = today.replace(day=1)
    calls = [
        ("/api/v1/auth/me", {}),
        ("/api/v1/accounts", {"limit": 100}),
        ("/api/v1/reports/budgets", {"months": 1}),
        ("/api/v1/reports/spending", {"group_by": "category", "since": first, "until": today}),
        ("/api/v1/reports/net-worth", {"interval": "month", "since": months_back(first, 11), "until": today}),
    ]

    def run():
        for path, query in calls:
            response = client.get(path, query)
            assert response.status_code == 200, (path, response.content[:300])

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730, help="spread transactions over this many past days")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--other-rows", type=int, default=0, help="rows of another user seeded first")
    parser.add_argument("--keep", action="store_true", help="leave the seeded users and rows in the database")
    parser.add_argument("--reuse", metavar="EMAIL", help="measure a user kept by --keep (no seeding, nothing removed)")
    args = parser.parse_args()

    if args.reuse:
        user = User.objects.get(email=args.reuse)
        other = None
        seed_s = 0.0
    else:
        user = User.objects.create_user(email=f"bench-reports-{uuid.uuid4().hex[:8]}@example.com", password=None)
        other = User.objects.create_user(email=f"bench-reports-other-{uuid.uuid4().hex[:8]}@example.com", password=None)
    try:
        if not args.reuse:
            t0 = time.perf_counter()
            if args.other_rows:
                seed(other, transactions=args.other_rows, days=args.days, budgets=False)
            seed(user, transactions=args.transactions, days=args.days)
            seed_s = time.perf_counter() - t0
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE ledger_transaction, ledger_splitline")
        until = datetime.date.today()
        since = (until - datetime.timedelta(days=365)).replace(day=1)
        span = {"user": user, "since": since, "until": until}
        results = {
            # Spending as the endpoint answers JSON: the selector and the renderer's bytes.
            "spending_category_month": timed(lambda: _spending_json(**span), args.iterations),
            "spending_merchant_week": timed(
                lambda: _spending_json(**span, group_by="merchant", interval="week"), args.iterations
            ),
            # The same through the URL router, view and renderer (in process), and with limit=10.
            "api_spending_merchant_week": timed(
                _api_call(
                    user,
                    "/api/v1/reports/spending",
                    {"since": since, "until": until, "group_by": "merchant", "interval": "week"},
                ),
                args.iterations,
            ),
            "api_spending_merchant_week_limit_10": timed(
                _api_call(
                    user,
                    "/api/v1/reports/spending",
                    {"since": since, "until": until, "group_by": "merchant", "interval": "week", "limit": 10},
                ),
                args.iterations,
            ),
            "cashflow_month": timed(lambda: selectors.cashflow_report(**span), args.iterations),
            "trends_month": timed(lambda: selectors.trends_report(user=user, until=until), args.iterations),
            "budgets_12_months": timed(lambda: budget_performance_report(user=user, months=12), args.iterations),
            "net_worth_12_months": timed(
                lambda: net_worth_series(user=user, since=months_back(until, 11), until=until), args.iterations
            ),
            "dashboard_calls": timed(dashboard_calls(user, until), args.iterations),
        }
        print(
            json.dumps(
                {
                    "bench": "reports",
                    "transactions": Transaction.objects.filter(user=user).count(),
                    "total_transactions": Transaction.objects.count(),
                    "iterations": args.iterations,
                    "seed_s": round(seed_s, 1),
                    **results,
                    "split_lines": SplitLine.objects.filter(transaction__user=user).count(),
                    "targets": {"report_p95_ms": 200, "dashboard_calls_p95_ms": 400},
                    **({"kept": {"user": user.email, "other": other.email}} if args.keep else {}),
                    **({"reused": user.email} if args.reuse else {}),
                    "load": os.getloadavg()[0],
                }
            )
        )
    finally:
        for seeded in () if args.keep or args.reuse else (user, other):
            Budget.objects.filter(user=seeded).delete()
            Transaction.objects.filter(user=seeded).delete()
            Account.objects.filter(user=seeded).delete()
            seeded.delete()


if __name__ == "__main__":
    main()
