"""Accounts benchmark: one user with N transactions over 10 accounts (COPY
into its own user, removed afterwards). Measures the account list with
balances, a 24-month monthly balance series, net worth, and what transfer
matching adds to an import of M rows; prints one JSON line.

    DATABASE_URL=... .venv/bin/python bench/accounts.py --transactions 100000 --import-rows 10000
"""

import argparse
import datetime
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.timing import timed  # noqa: E402
from ledger.books import selectors  # noqa: E402
from ledger.books import services as books  # noqa: E402
from ledger.imports import services as import_services  # noqa: E402
from ledger.models import Account, Transaction, Transfer, TransferSuggestion  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402

COLUMNS = (
    "id, created_at, updated_at, user_id, account_id, kind, amount, currency, date, merchant_raw, "
    "merchant_normalized, category, source, notes, external_id, confidence, blockchain_hash, ipfs_cid, is_deleted"
)
KINDS = [
    "checking",
    "savings",
    "credit_card",
    "credit_card",
    "cash",
    "loan",
    "investment",
    "checking",
    "other",
    "savings",
]


def seed(user, accounts, *, transactions, days, rng):
    today, now = timezone.localdate(), timezone.now()
    with connection.cursor() as cursor, cursor.copy(f"COPY ledger_transaction ({COLUMNS}) FROM STDIN") as copy:
        for n in range(transactions):
            account = accounts[n % len(accounts)]
            amount = rng.randint(100, 20000) / 100 * (1 if rng.random() < 0.85 else -1)
            copy.write_row(
                (
                    uuid.uuid4(), now, now, user.id, account.id, "standard", f"{amount:.2f}", "USD",
                    today - datetime.timedelta(days=rng.randrange(days)), f"Shop {n % 700}", f"shop {n % 700}",
                    rng.choice(CATEGORY_NAMES), "csv", "", "", "{}", "", "", rng.random() < 0.02,
                )
            )  # fmt: skip
    with connection.cursor() as cursor:
        # As autovacuum would after a bulk load: the visibility map makes the sums index-only.
        cursor.execute("VACUUM ANALYZE ledger_transaction")


def import_file(rows, *, rng, today):
    lines = ["date,amount,merchant"]
    for n in range(rows):
        day = today - datetime.timedelta(days=rng.randrange(60))
        lines.append(f"{day.isoformat()},{rng.randint(100, 20000) / 100:.2f},Import shop {n % 300}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(42)
    tag = uuid.uuid4().hex[:8]
    user = User.objects.create_user(email=f"bench-accounts-{tag}@example.com", password=None)
    try:
        accounts = [
            books.account_create(user=user, name=f"Account {i}", kind=kind, currency="USD", is_default=i == 0)
            for i, kind in enumerate(KINDS)
        ]
        t0 = time.perf_counter()
        seed(user, accounts, transactions=args.transactions, days=args.days, rng=rng)
        seed_s = time.perf_counter() - t0
        today = timezone.localdate()
        since = (today.replace(day=1) - datetime.timedelta(days=700)).replace(day=1)

        balances = timed(lambda: [selectors.balance_of(a) for a in selectors.account_list(user=user)], args.iterations)
        series = timed(
            lambda: selectors.account_balance_series(account=accounts[0], since=since, until=today, interval="month"),
            args.iterations,
        )
        net_worth = timed(lambda: selectors.net_worth_series(user=user, since=since, until=today), args.iterations)

        # Imports of M rows into one account, without and with transfer matching
        # (two files of the same shape); a tenth of the second file's rows have a
        # counterpart (the opposite amount) on a card account.
        plain = import_file(args.import_rows, rng=random.Random(7), today=today)
        matched = import_file(args.import_rows, rng=random.Random(8), today=today).replace("Import shop", "Shop B")
        with connection.cursor() as cursor:
            for line in matched.splitlines()[1 : 1 + args.import_rows // 10]:
                day, amount, _ = line.split(",")
                cursor.execute(
                    "INSERT INTO ledger_transaction (id, created_at, updated_at, user_id, account_id, kind, amount, "
                    "currency, date, merchant_raw, merchant_normalized, category, source, notes, external_id, "
                    "confidence, blockchain_hash, ipfs_cid, is_deleted) VALUES (gen_random_uuid(), now(), now(), "
                    "%s, %s, 'standard', -%s::numeric, 'USD', %s, 'Payment', 'payment', 'Uncategorized', 'csv', "
                    "'', '', '{}', '', '', false)",
                    [user.id, accounts[2].id, amount, day],
                )
        original = import_services.transfers_match

        def run_import(content, *, match: bool):
            if not match:
                import_services.transfers_match = lambda **kw: original(user=kw["user"], transaction_ids=[])
            try:
                start = time.perf_counter()
                result = import_services.transactions_import(user=user, content=content, account=accounts[0])
                return time.perf_counter() - start, result
            finally:
                import_services.transfers_match = original

        without_s, _ = run_import(plain, match=False)
        with_s, result = run_import(matched, match=True)
        print(
            json.dumps(
                {
                    "bench": "accounts",
                    "transactions": args.transactions,
                    "accounts": len(accounts),
                    "iterations": args.iterations,
                    "seed_s": round(seed_s, 1),
                    "balances_10_accounts": balances,
                    "series_24_months": series,
                    "net_worth_24_months": net_worth,
                    "import": {
                        "rows": args.import_rows,
                        "without_matching_s": round(without_s, 3),
                        "with_matching_s": round(with_s, 3),
                        "matching_overhead_pct": round((with_s / without_s - 1) * 100, 1),
                        "transfers_matched": result.transfers_matched,
                    },
                    "targets": {"balances_p95_ms": 50, "series_p95_ms": 50, "matching_overhead_pct": 20},
                }
            )
        )
    finally:
        Transfer.objects.filter(user=user).delete()
        TransferSuggestion.objects.filter(user=user).delete()
        Transaction.objects.filter(user=user).delete()
        Account.objects.filter(user=user).delete()
        user.delete()


if __name__ == "__main__":
    main()
