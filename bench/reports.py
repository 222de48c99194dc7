"""Reports benchmark: one user with N transactions over two accounts (seeded
with bulk_create into its own user, removed afterwards), a few transfers
among them. Times each report selector over the last 12 months and prints
one JSON line.

    DATABASE_URL=... .venv/bin/python bench/reports.py --transactions 100000 --iterations 30
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
from ledger.models import Account, Transaction  # noqa: E402
from ledger.reports import selectors  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402


def seed(user, *, transactions, days, batch=5000):
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
            Transaction.objects.bulk_create(rows)
            rows = []
    Transaction.objects.bulk_create(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730, help="spread transactions over this many past days")
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()

    user = User.objects.create_user(email=f"bench-reports-{uuid.uuid4().hex[:8]}@example.com", password=None)
    try:
        t0 = time.perf_counter()
        seed(user, transactions=args.transactions, days=args.days)
        seed_s = time.perf_counter() - t0
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE ledger_transaction")
        until = datetime.date.today()
        since = (until - datetime.timedelta(days=365)).replace(day=1)
        span = {"user": user, "since": since, "until": until}
        results = {
            "spending_category_month": timed(lambda: selectors.spending_report(**span), args.iterations),
            "spending_merchant_week": timed(
                lambda: selectors.spending_report(**span, group_by="merchant", interval="week"), args.iterations
            ),
            "cashflow_month": timed(lambda: selectors.cashflow_report(**span), args.iterations),
            "trends_month": timed(lambda: selectors.trends_report(user=user, until=until), args.iterations),
        }
        print(
            json.dumps(
                {
                    "bench": "reports",
                    "transactions": args.transactions,
                    "total_transactions": Transaction.objects.count(),
                    "iterations": args.iterations,
                    "seed_s": round(seed_s, 1),
                    **results,
                    "targets": {"report_p95_ms": 200},
                }
            )
        )
    finally:
        Transaction.objects.filter(user=user).delete()
        user.delete()


if __name__ == "__main__":
    main()
