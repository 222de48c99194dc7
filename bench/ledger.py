"""Ledger benchmark: list endpoint vs the same SQL through psycopg, and CSV import throughput.

Seeds one user with --user-rows transactions among --total-rows in all (COPY, not the API),
times the list endpoint in-process (first page, filtered page, q search, deep offset), runs the
exact SQL those requests issued through a plain psycopg connection, imports a --import-rows CSV
through the import service, prints ONE JSON line, and deletes everything it created.
--explain writes EXPLAIN ANALYZE of each list query to stderr. The list's count is counted once per
ledger version (ledger/transactions/selectors.py); first_page_after_write moves the version before
every request, so it pays the count each time. Production settings (DEBUG off, as bench/servers.py
runs the servers): DEBUG's query log alone is a good part of a page's Python time. --keep leaves the
seeded users and rows for a later --reuse (same --user-rows/--total-rows); --import-rows 0 skips the import.

    DATABASE_URL=... .venv/bin/python bench/ledger.py --user-rows 100000 --total-rows 1000000
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.servers import PRODUCTION_ENV  # noqa: E402

os.environ.update(PRODUCTION_ENV)

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import User  # noqa: E402
from ledger.books.guards import account_default  # noqa: E402
from ledger.imports import one_call  # noqa: E402
from ledger.transactions import selectors  # noqa: E402
from ledger.transactions.views import encode_cursor  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402

WORDS = ["coffee", "grocer", "market", "fuel", "cinema", "pharmacy", "books", "rail", "taxi", "bakery", "hotel"]
COLUMNS = (
    "id, created_at, updated_at, user_id, amount, currency, date, merchant_raw, merchant_normalized, category, "
    "source, notes, external_id, confidence, blockchain_hash, ipfs_cid, is_deleted, account_id, kind"
)


def _dsn():
    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST'] or 'localhost'} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER']}"
    return dsn + (f" password={db['PASSWORD']}" if db.get("PASSWORD") else "")


def _pctl(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def seed(user_ids, rows_per_user, rng):
    today = date.today()
    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        raw = cursor.connection
        accounts = {uid: account_default(user=User(pk=uid), currency="USD").id for uid in user_ids}
        with raw.cursor().copy(f"COPY ledger_transaction ({COLUMNS}) FROM STDIN") as copy:
            for user_id, count in zip(user_ids, rows_per_user, strict=True):
                for _ in range(count):
                    word = rng.choice(WORDS)
                    merchant = f"{word.title()} {rng.randint(1, 400)}"
                    copy.write_row(
                        (
                            uuid.uuid4(),
                            now,
                            now,
                            user_id,
                            f"{rng.choice([-1, 1, 1, 1, 1]) * rng.randint(100, 50000) / 100:.2f}",
                            "USD",
                            today - timedelta(days=rng.randint(0, 1500)),
                            merchant,
                            merchant.lower(),
                            rng.choice(CATEGORY_NAMES),
                            "csv",
                            rng.choice(["", "", "", f"note {rng.choice(WORDS)}"]),
                            "",
                            "{}",
                            "",
                            "",
                            False,
                            accounts[user_id],
                            "standard",
                        )
                    )
    # Autovacuum's steady state: sets the visibility map so counts can be index-only.
    with psycopg.connect(_dsn(), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ledger_transaction")


def time_endpoint(client, params, repeat, before=None):
    samples = []
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        response = client.get("/api/v1/transactions", params)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/transactions", params)
    # Every statement the request issued (the count-version lookup included).
    sql = [q["sql"] for q in captured.captured_queries]
    return samples, sql


def time_raw(dsn, sql, repeat):
    samples = []
    with psycopg.connect(dsn) as conn:
        for _ in range(repeat):
            start = time.perf_counter()
            for statement in sql:
                conn.execute(statement).fetchall()
            samples.append((time.perf_counter() - start) * 1000)
    return samples


def explain(dsn, label, sql):
    with psycopg.connect(dsn) as conn:
        for statement in sql:
            plan = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement).fetchall()
            print(f"--- {label}: {statement[:160]}", file=sys.stderr)
            for (line,) in plan:
                print("    " + line, file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--user-rows", type=int, default=100_000)
    parser.add_argument("--total-rows", type=int, default=1_000_000)
    parser.add_argument("--other-users", type=int, default=50)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--deep-offset", type=int, default=50_000)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="leave the seeded users and rows in place")
    parser.add_argument("--reuse", action="store_true", help="use what a --keep run with the same sizes left")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    db = settings.DATABASES["default"]
    dsn = f"host={db['HOST'] or 'localhost'} port={db['PORT'] or 5432} dbname={db['NAME']} user={db['USER']}"
    if db.get("PASSWORD"):
        dsn += f" password={db['PASSWORD']}"

    rest = max(args.total_rows - args.user_rows, 0)
    kept = f"kept-{args.user_rows}-{args.total_rows}-{args.other_users}"
    reuse = args.reuse and User.objects.filter(email=f"bench-ledger-{kept}@example.com").exists()
    tag = kept if args.keep or reuse else uuid.uuid4().hex[:8]
    if reuse:
        main_user = User.objects.get(email=f"bench-ledger-{tag}@example.com")
        others = list(User.objects.filter(email__startswith=f"bench-ledger-{tag}-"))
    else:
        stale = list(User.objects.filter(email__startswith=f"bench-ledger-{tag}").values_list("id", flat=True))
        with connection.cursor() as cursor:  # a raw DELETE: the ORM's cascade would load every row first
            cursor.execute("DELETE FROM ledger_transaction WHERE user_id = ANY(%s)", [stale])
        User.objects.filter(id__in=stale).delete()
        main_user = User.objects.create_user(email=f"bench-ledger-{tag}@example.com", password=None)
        others = [
            User.objects.create_user(email=f"bench-ledger-{tag}-{i}@example.com", password=None)
            for i in range(args.other_users)
        ]
    importer, _ = User.objects.get_or_create(email=f"bench-ledger-{uuid.uuid4().hex[:8]}-import@example.com")
    user_ids = [main_user.id, *[o.id for o in others]]
    per_other = [rest // max(len(others), 1)] * len(others)
    result = {"bench": "ledger", "user_rows": args.user_rows, "total_rows": args.user_rows + sum(per_other)}
    try:
        started = time.perf_counter()
        if not reuse:
            seed(user_ids, [args.user_rows, *per_other], rng)
        result["seed_seconds"] = round(time.perf_counter() - started, 1)
        result["reused"] = reuse

        client = APIClient()
        client.force_authenticate(main_user)
        cases = {
            "first_page": {},
            "filtered_page": {"category": "Groceries", "since": str(date.today() - timedelta(days=365))},
            "q_search": {"q": "bakery"},
            "deep_offset": {"offset": min(args.deep_offset, max(args.user_rows - 50, 0))},
        }
        # The same depth through keyset pagination: the cursor of the row just before that offset.
        depth = cases["deep_offset"]["offset"]
        if depth:
            before = selectors.transaction_rows(selectors.transaction_list(user=main_user))[depth - 1]
            cases["deep_cursor"] = {"cursor": encode_cursor(before), "limit": 50}
        # The first page as if the ledger had just changed before every request (the count is not reused).
        cases["first_page_after_write"] = {}

        def ledger_changed():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE ledger_count_version SET version = nextval('ledger_count_version_seq') WHERE user_id = %s",
                    [main_user.id],
                )

        for name, params in cases.items():
            before = ledger_changed if name == "first_page_after_write" else None
            client.get("/api/v1/transactions", params)  # warm
            api, sql = time_endpoint(client, params, args.repeat, before)
            if before:  # the same request's SQL with the count it then ran
                ledger_changed()
                with CaptureQueriesContext(connection) as captured:
                    client.get("/api/v1/transactions", params)
                sql = [q["sql"] for q in captured.captured_queries]
            raw = time_raw(dsn, sql, args.repeat)
            result[name] = {
                "api_p50_ms": round(_pctl(api, 0.5), 2),
                "api_p95_ms": round(_pctl(api, 0.95), 2),
                "sql_p50_ms": round(_pctl(raw, 0.5), 2),
                "sql_p95_ms": round(_pctl(raw, 0.95), 2),
                "ratio_p95": round(_pctl(api, 0.95) / max(_pctl(raw, 0.95), 1e-6), 2),
                "ratio_p50": round(statistics.median(api) / max(statistics.median(raw), 1e-6), 2),
            }
            if args.explain:
                explain(dsn, name, sql)

        result["load"] = os.getloadavg()[0]
        if not args.import_rows:
            return
        buffer = io.StringIO()
        buffer.write("date,amount,merchant,notes\n")
        today = date.today()
        for _ in range(args.import_rows):
            word = rng.choice(WORDS)
            day = today - timedelta(days=rng.randint(0, 700))
            buffer.write(
                f"{day.isoformat()},{rng.randint(100, 50000) / 100:.2f},{word.title()} {rng.randint(1, 400)},\n"
            )
        started = time.perf_counter()
        upload = SimpleUploadedFile("bench.csv", buffer.getvalue().encode())
        imported = one_call.transactions_import(user=importer, upload=upload, run_async=False).result
        seconds = time.perf_counter() - started
        result["import"] = {
            "rows": args.import_rows,
            "imported": imported["imported"],
            "duplicates": imported["duplicates"],
            "seconds": round(seconds, 2),
            "rows_per_s": round(args.import_rows / seconds),
        }
    finally:
        dropped = [importer.id] if args.keep or reuse else [*user_ids, importer.id]
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_transaction WHERE user_id = ANY(%s)", [dropped])
        User.objects.filter(id__in=dropped).delete()
        print(json.dumps(result))


if __name__ == "__main__":
    main()
