"""Workers benchmark: nightly subscription detection over N users x M
transactions (seeded with COPY into users of their own, removed afterwards),
then anomaly scoring throughput: the per-transaction task body on a sample
and the nightly re-score of unscored rows for the first R users. Prints one
JSON line. Target: detection over 1M transactions under 5 minutes.

    DATABASE_URL=... REDIS_URL=redis://localhost:6379/12 .venv/bin/python bench/workers.py \\
        --users 1000 --transactions 1000 --score-sample 500 --rescore-users 100
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
from ledger.anomalies import services as anomalies  # noqa: E402
from ledger.books.guards import account_default  # noqa: E402
from ledger.models import Recurrence, Transaction  # noqa: E402
from ledger.recurrences import services as subscriptions  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402
from realtime.models import Notification  # noqa: E402

COLUMNS = (
    "id, user_id, amount, currency, date, merchant_raw, merchant_normalized, category, source, notes, external_id, "
    "confidence, blockchain_hash, ipfs_cid, is_deleted, created_at, updated_at, account_id"
)
# name, period in days, amount
SUBSCRIPTIONS = (("Netflix", 30, 15.99), ("Gym Club", 7, 10.0), ("Cleaner", 14, 80.0), ("Insurance Co", 91, 45.0))


def user_rows(user_id, *, transactions, today, rng, now):
    rows = []
    for name, period, amount in SUBSCRIPTIONS:
        day = today - datetime.timedelta(days=rng.randrange(period))
        while day > today - datetime.timedelta(days=395) and len(rows) < transactions // 2:
            shifted = day + datetime.timedelta(days={5: 2, 6: 1}.get(day.weekday(), 0))
            rows.append((shifted, name, round(amount * rng.uniform(0.97, 1.03), 2), "subscriptions"))
            day -= datetime.timedelta(days=period)
    while len(rows) < transactions:
        n = rng.randrange(150)
        rows.append(
            (
                today - datetime.timedelta(days=rng.randrange(400)),
                f"Shop {n}",
                round(rng.lognormvariate(3.2, 0.8), 2) or 1.0,
                CATEGORY_NAMES[n % len(CATEGORY_NAMES)],
            )
        )
    for day, name, amount, category in rows:
        yield (
            uuid.uuid4(), user_id, f"{amount:.2f}", "USD", day, name, name.lower(), category, "csv", "", "", "{}",
            "", "", False, now, now,
        )  # fmt: skip


def seed(users, *, transactions, today):
    rng, now = random.Random(42), timezone.now()
    accounts = {user.id: account_default(user=user, currency="USD").id for user in users}
    with connection.cursor() as cursor, cursor.copy(f"COPY ledger_transaction ({COLUMNS}) FROM STDIN") as copy:
        for user in users:
            for row in user_rows(user.id, transactions=transactions, today=today, rng=rng, now=now):
                copy.write_row((*row, accounts[user.id]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--transactions", type=int, default=1000, help="per user")
    parser.add_argument("--score-sample", type=int, default=500, help="transactions scored one by one")
    parser.add_argument("--rescore-users", type=int, default=100, help="users whose rows the nightly re-score runs on")
    args = parser.parse_args()

    today = timezone.localdate()
    tag = uuid.uuid4().hex[:8]
    users = User.objects.bulk_create(
        User(email=f"bench-workers-{tag}-{i}@example.com", password="!") for i in range(args.users)
    )
    user_ids = [u.id for u in users]
    try:
        start = time.perf_counter()
        seed(users, transactions=args.transactions, today=today)
        seed_s = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ledger_transaction")

        start = time.perf_counter()
        detection = subscriptions.recurrences_detect(today=today, user_ids=user_ids)
        detect_s = time.perf_counter() - start
        start = time.perf_counter()
        subscriptions.recurrences_detect(today=today, user_ids=user_ids)  # a second night: updates in place
        redetect_s = time.perf_counter() - start
        recurrences = Recurrence.objects.filter(user_id__in=user_ids).count()

        sample = list(
            Transaction.objects.filter(user_id__in=user_ids[:50])
            .order_by("?")
            .values_list("id", flat=True)[: args.score_sample]
        )
        start = time.perf_counter()
        for tx_id in sample:
            anomalies.transaction_score_anomaly(transaction_id=tx_id)
        single_s = time.perf_counter() - start

        rescore_ids = user_ids[50 : 50 + args.rescore_users] or user_ids
        start = time.perf_counter()
        rescore = anomalies.anomalies_rescore_unscored(today=today, user_ids=rescore_ids)
        rescore_s = time.perf_counter() - start

        total = args.users * args.transactions
        print(
            json.dumps(
                {
                    "bench": "workers",
                    "users": args.users,
                    "transactions_per_user": args.transactions,
                    "transactions": total,
                    "seed_s": round(seed_s, 2),
                    "detect_s": round(detect_s, 2),
                    "detect_rows_per_s": round(total / detect_s),
                    "redetect_s": round(redetect_s, 2),
                    "series_checked": detection["series_checked"],
                    "recurrences": recurrences,
                    "expected_recurrences": args.users * len(SUBSCRIPTIONS),
                    "score_single_per_s": round(len(sample) / single_s, 1) if sample else None,
                    "score_single_ms": round(1000 * single_s / len(sample), 2) if sample else None,
                    "rescore_rows": rescore["scored"],
                    "rescore_s": round(rescore_s, 2),
                    "rescore_rows_per_s": round(rescore["scored"] / rescore_s) if rescore_s else None,
                    "rescore_alerts": rescore["alerted"],
                    "target_detect_1m_under_s": 300,
                }
            )
        )
    finally:
        Notification.objects.filter(user_id__in=user_ids).delete()
        Recurrence.objects.filter(user_id__in=user_ids).delete()
        Transaction.objects.filter(user_id__in=user_ids).delete()
        User.objects.filter(id__in=user_ids).delete()


if __name__ == "__main__":
    main()
