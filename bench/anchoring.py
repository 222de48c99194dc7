"""Anchoring benchmark: seeds a small and a large batch of transactions (SQL
generate_series, no Python rows), anchors each, and reports the time, the
process's peak memory growth for each (flat = streaming works), the time to
verify the large batch, and proof-generation latency over random leaves.
Prints one JSON line. Target: 1M anchored in under 2 minutes, memory not
growing with the batch.

Anchoring takes every unanchored row in the database, so this runs in a
database of its own (created and migrated here, emptied afterwards):

    .venv/bin/python bench/anchoring.py --large 1000000 --small 100000 --proofs 500
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/other .venv/bin/python bench/anchoring.py
"""

import argparse
import datetime
import json
import os
import random
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/tally_bench_anchoring"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from config import bootstrap  # noqa: E402

bootstrap.database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from ledger.anchoring import merkle  # noqa: E402
from ledger.anchoring import services as anchoring  # noqa: E402
from ledger.books.guards import account_default  # noqa: E402
from ledger.models import MerkleBatch, Transaction  # noqa: E402

USERS = 1000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def seed(count: int, day: datetime.date, user_ids: list) -> float:
    """``count`` rows spread over ``day`` (UTC), round-robin over the users."""
    start = time.perf_counter()
    step_ms = max(1, 86_000_000 // max(count, 1))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO ledger_transaction (id, user_id, amount, currency, date, merchant_raw, merchant_normalized,
                category, source, notes, external_id, confidence, blockchain_hash, ipfs_cid, is_deleted,
                created_at, updated_at, account_id)
            SELECT gen_random_uuid(), (%(users)s::uuid[])[1 + g %% %(n_users)s], ((g %% 20000) - 5000 + 0.5) / 100.0,
                'USD', %(day)s::date - (g %% 300), 'Shop ' || (g %% 700), 'shop ' || (g %% 700), 'Groceries', 'csv',
                '', '', '{}', '', '', false,
                %(day)s::timestamptz + make_interval(secs => (g * %(step)s) / 1000.0), now(),
                (%(accounts)s::uuid[])[1 + g %% %(n_users)s]
            FROM generate_series(1, %(count)s) AS g
            WHERE (g %% 20000) <> 5000
            """,
            {
                "users": user_ids,
                "accounts": [account_default(user=User(pk=uid), currency="USD").id for uid in user_ids],
                "n_users": len(user_ids),
                "day": day,
                "step": step_ms,
                "count": count,
            },
        )
        cursor.execute("ANALYZE ledger_transaction")
    return time.perf_counter() - start


def anchor(day: datetime.date) -> dict:
    baseline = peak_rss_mb()
    start = time.perf_counter()
    result = anchoring.ledger_anchor(batch_date=day)
    seconds = time.perf_counter() - start
    return {
        "transactions": result.transaction_count,
        "anchor_s": round(seconds, 2),
        "rows_per_s": round(result.transaction_count / seconds),
        "peak_rss_growth_mb": round(peak_rss_mb() - baseline, 1),
    }


def proof_latency(batch: MerkleBatch, samples: int) -> dict:
    rng = random.Random(7)
    indexes = [rng.randrange(batch.transaction_count) for _ in range(samples)]
    targets = Transaction.objects.filter(merkle_batch=batch, leaf_index__in=indexes).values_list("id", "user_id")
    timings, failures = [], 0
    for tx_id, user_id in targets:
        start = time.perf_counter()
        proof = anchoring.transaction_proof(user=user_id, transaction_id=tx_id)
        timings.append((time.perf_counter() - start) * 1000)
        failures += not all(passed for _, passed, _ in merkle.verify_proof(proof))
    timings.sort()
    return {
        "samples": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
        "path_length": len(proof["path"]),
        "failed_verification": failures,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", type=int, default=1_000_000, help="transactions in the large batch")
    parser.add_argument("--small", type=int, default=100_000, help="transactions in the small batch (memory baseline)")
    parser.add_argument("--proofs", type=int, default=500, help="proofs generated for latency")
    parser.add_argument("--skip-verify", action="store_true", help="do not time verify_ledger on the large batch")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    if MerkleBatch.objects.exists() or Transaction.objects.exists():
        sys.exit(f"{connection.settings_dict['NAME']} already holds ledger rows; point BENCH_DATABASE_URL elsewhere.")
    users = User.objects.bulk_create(User(email=f"bench-anchor-{i}@example.com", password="!") for i in range(USERS))
    user_ids = [str(user.id) for user in users]
    today = datetime.datetime.now(datetime.UTC).date()
    small_day, large_day = today - datetime.timedelta(days=3), today - datetime.timedelta(days=2)
    try:
        seed_small_s = seed(args.small, small_day, user_ids)
        small = anchor(small_day)
        seed_large_s = seed(args.large, large_day, user_ids)
        large = anchor(large_day)
        batch = MerkleBatch.objects.get(batch_date=large_day)
        verify_s = None
        if not args.skip_verify:
            start = time.perf_counter()
            (report,) = anchoring.ledger_verify(batch_date=large_day)
            verify_s = round(time.perf_counter() - start, 2)
            assert report.ok, report.problems[:5]
        print(
            json.dumps(
                {
                    "bench": "anchoring",
                    "seed_s": {"small": round(seed_small_s, 1), "large": round(seed_large_s, 1)},
                    "small": small,
                    "large": large,
                    "memory_flat": large["peak_rss_growth_mb"] <= small["peak_rss_growth_mb"] + 16,
                    "verify_large_s": verify_s,
                    "proof": proof_latency(batch, args.proofs),
                    "target_1m_anchor_s": 120,
                    "pass": large["anchor_s"] * 1_000_000 / max(large["transactions"], 1) < 120,
                }
            )
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE ledger_transaction, ledger_merklebatch, ledger_categorycorrection CASCADE")
        User.objects.filter(id__in=user_ids).delete()


if __name__ == "__main__":
    main()
