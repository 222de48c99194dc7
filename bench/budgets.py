"""Budgets benchmark: one user with N budgets and M transactions (seeded with
bulk_create into its own user, removed afterwards). Measures the list and
status selectors and the alert evaluation a transaction create adds; prints
one JSON line.

    DATABASE_URL=... REDIS_URL=redis://localhost:6379/12 .venv/bin/python bench/budgets.py \\
        --transactions 100000 --budgets 20 --iterations 50
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

from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.timing import percentiles, timed  # noqa: E402
from budgets import selectors, services  # noqa: E402
from budgets.models import Budget  # noqa: E402
from ledger.books.guards import account_default  # noqa: E402
from ledger.models import Transaction  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402
from realtime import services as realtime_services  # noqa: E402


def seed(user, *, transactions, budgets, days, batch=5000):
    today = datetime.date.today()
    account = account_default(user=user, currency="USD")
    rng = random.Random(42)
    rows = []
    for n in range(transactions):
        rows.append(
            Transaction(
                user=user,
                account=account,
                amount=Decimal(rng.randint(100, 20000)) / 100,
                date=today - datetime.timedelta(days=rng.randrange(days)),
                merchant_raw=f"Bench Merchant {n % 500}",
                merchant_normalized=f"bench merchant {n % 500}",
                category=rng.choice(CATEGORY_NAMES),
                is_deleted=rng.random() < 0.02,
            )
        )
        if len(rows) == batch:
            Transaction.objects.bulk_create(rows)
            rows = []
    Transaction.objects.bulk_create(rows)
    start, end = services.current_month(today)
    # Budgets are unique per category, so at most one per category exists.
    Budget.objects.bulk_create(
        Budget(user=user, category=category, amount=Decimal("100000.00"), start_date=start, end_date=end)
        for category in CATEGORY_NAMES[:budgets]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--budgets", type=int, default=20)
    parser.add_argument("--days", type=int, default=365, help="spread transactions over this many past days")
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--explain", action="store_true", help="add EXPLAIN ANALYZE of the list query to stderr")
    args = parser.parse_args()

    # Count alerts instead of delivering them: the benchmark measures budgets.
    realtime_services.notify_budget_alert = lambda **kwargs: None

    user = User.objects.create_user(email=f"bench-budgets-{uuid.uuid4().hex[:8]}@example.com", password=None)
    try:
        t0 = time.perf_counter()
        seed(user, transactions=args.transactions, budgets=args.budgets, days=args.days)
        seed_s = time.perf_counter() - t0
        with connection.cursor() as cursor:
            # As autovacuum would after a bulk load: sets the visibility map so
            # the spending sums are index-only scans.
            cursor.execute("VACUUM ANALYZE ledger_transaction")
            cursor.execute("ANALYZE budgets_budget")
        budget_count = Budget.objects.filter(user=user).count()

        list_stats = timed(lambda: list(selectors.budget_list(user=user)), args.iterations)
        status_stats = timed(lambda: selectors.budget_status(user=user), args.iterations)
        categories = list(Budget.objects.filter(user=user).values_list("category", flat=True))
        rng = random.Random(7)
        today = datetime.date.today()

        def create_and_evaluate():
            category = rng.choice(categories)
            with transaction.atomic():
                Transaction.objects.create(
                    user=user,
                    account=account_default(user=user, currency="USD"),
                    amount=Decimal("12.34"),
                    date=today,
                    merchant_raw="Bench",
                    category=category,
                )
            start = time.perf_counter()
            services.transactions_changed_handle(user_id=user.pk, categories={category})
            return (time.perf_counter() - start) * 1000

        alert_samples = [create_and_evaluate() for _ in range(args.iterations)]
        if args.explain:
            with connection.cursor() as cursor:
                sql, params = selectors.budget_list(user=user).query.sql_with_params()
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                print("\n".join(row[0] for row in cursor.fetchall()), file=sys.stderr)
        print(
            json.dumps(
                {
                    "bench": "budgets",
                    "transactions": args.transactions,
                    "budgets": budget_count,
                    "iterations": args.iterations,
                    "seed_s": round(seed_s, 1),
                    "list": list_stats,
                    "status": status_stats,
                    "alert_evaluation": percentiles(alert_samples),
                    "targets": {"status_ms": 100, "alert_evaluation_ms": 10},
                }
            )
        )
    finally:
        Transaction.objects.filter(user=user).delete()
        user.delete()


if __name__ == "__main__":
    main()
