"""Currency benchmark: what converting on write costs an import, the
recompute after a base-currency change, and budgets status over mixed
currencies; prints one JSON line. Seeds its own users (removed afterwards);
loads the packaged ECB history first if the table is empty.

    DATABASE_URL=... REDIS_URL=redis://localhost:6379/12 .venv/bin/python bench/currency.py \\
        --import-rows 20000 --transactions 100000 --budgets 10 --iterations 30

- import: the statement-commit path (preview, then commit with COPY) of the
  same-size file into a EUR account of a USD user, with the Python conversion
  (BulkConverter) and with it replaced by a no-op; best of --rounds each,
  in alternating order after a warm-up commit; and the conversion alone per
  row against the commit's time per row (converter_share_pct), the figure
  the machine's noise does not swamp.
- trigger: COPY of the same rows with the per-row trigger converting them,
  against COPY with the trigger told to skip (what the legacy CSV path and
  ORM writes pay).
- recompute: --transactions rows (EUR, GBP, USD accounts) reconverted after
  the user's base currency changes, one statement.
- status: budgets status p50/p95 for that user (budgets over a month the
  rates cover, rows in three currencies plus some without any rate).
"""

import argparse
import datetime
import io
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

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.timing import percentiles  # noqa: E402
from budgets import selectors as budget_selectors  # noqa: E402
from budgets.models import Budget  # noqa: E402
from ledger.currency import selectors as currency_selectors  # noqa: E402
from ledger.currency import services as currency  # noqa: E402
from ledger.imports import commits, previews  # noqa: E402
from ledger.models import Account, Import, Transaction  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402

# The packaged history ends 2026-10-30: seed within the year before it.
LAST_RATE_DAY = datetime.date(2026, 10, 30)
FIRST_DAY = LAST_RATE_DAY - datetime.timedelta(days=364)


def statement(count: int, rng: random.Random) -> bytes:
    out = io.StringIO()
    out.write("date,amount,merchant\n")
    for n in range(count):
        day = FIRST_DAY + datetime.timedelta(days=rng.randrange(365))
        cents = rng.randrange(100, 20000)
        out.write(f"{day.isoformat()},-{cents / 100:.2f},Bench payee {rng.randrange(2000)} {n}\n")
    return out.getvalue().encode()


class NoConversion:
    """Stands in for BulkConverter: no rate query, no arithmetic."""

    def __init__(self, **kwargs):
        pass

    def convert(self, amount, on):
        return None, None


def commit_once(user, rows: int, seed: int, *, convert: bool) -> float:
    account = Account.objects.create(user=user, name=f"EUR {uuid.uuid4().hex[:6]}", currency="EUR")
    content = statement(rows, random.Random(seed))
    source = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile("s.csv", content))
    real = commits.BulkConverter
    if not convert:
        commits.BulkConverter = NoConversion
    try:
        started = time.perf_counter()
        done = commits.import_commit(user=user, import_id=source.id, run_async=False)
        elapsed = time.perf_counter() - started
    finally:
        commits.BulkConverter = real
    assert done.imported_count == rows, done.imported_count
    return rows / elapsed


def converter_cost_us(rows: int) -> float:
    """Microseconds per row of the conversion a commit does: building the
    converter (its rate query) and converting the rows of a statement."""
    rng = random.Random(100)
    data = [
        (Decimal(rng.randrange(100, 20000)) / 100, FIRST_DAY + datetime.timedelta(days=rng.randrange(365)))
        for _ in range(rows)
    ]
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        converter = currency.BulkConverter(
            from_currency="EUR", to_currency="USD", dates=[min(d for _, d in data), max(d for _, d in data)]
        )
        for amount, day in data:
            converter.convert(amount, day)
        best = min(best, time.perf_counter() - started)
    return best / rows * 1e6


COPY_COLUMNS = (
    "id, created_at, updated_at, user_id, account_id, amount, currency, date, merchant_raw, merchant_normalized, "
    "category, source, notes, external_id, confidence, blockchain_hash, ipfs_cid, is_deleted, kind, "
    "amount_base, base_currency, rate_date"
)


def copy_rows(user, account, rows: int, rng: random.Random, *, skip_trigger: bool) -> float:
    now = datetime.datetime.now(datetime.UTC)
    data = [
        (uuid.uuid4(), now, now, user.pk, account.pk, Decimal(rng.randrange(100, 20000)) / 100, account.currency,
         FIRST_DAY + datetime.timedelta(days=rng.randrange(365)), f"Copy {n}", f"copy {n}", rng.choice(CATEGORY_NAMES),
         "manual", "", "", "{}", "", "", False, "standard", None, user.base_currency, None)
        for n in range(rows)
    ]  # fmt: skip
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if skip_trigger:
            cursor.execute("SELECT set_config('tally.fx_precomputed', 'on', true)")
        with cursor.cursor.copy(f"COPY ledger_transaction ({COPY_COLUMNS}) FROM STDIN") as copy:
            for row in data:
                copy.write_row(row)
    return rows / (time.perf_counter() - started)


def seed_mixed(user, rows: int, rng: random.Random) -> list[Account]:
    accounts = [
        Account.objects.create(user=user, name=f"{code} mixed", currency=code, kind="checking")
        for code in ("EUR", "GBP", "USD")
    ]
    per_account = rows // len(accounts)
    for account in accounts:
        copy_rows(user, account, per_account, rng, skip_trigger=False)
    return accounts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--import-rows", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="import commits per variant (best is kept)")
    parser.add_argument("--transactions", type=int, default=100_000, help="rows to recompute and for status")
    parser.add_argument("--budgets", type=int, default=10)
    parser.add_argument("--unconverted", type=int, default=50, help="rows in a currency without rates")
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()

    if not currency_selectors.history_loaded():
        currency.rates_load_history()
    users = []

    def new_user(tag):
        user = User.objects.create_user(email=f"bench-currency-{tag}-{uuid.uuid4().hex[:8]}@example.com")
        users.append(user)
        return user

    try:
        importer = new_user("import")
        converted, plain = [], []
        commit_once(importer, min(args.import_rows, 500), 99, convert=True)  # warm-up (caches, plans), not timed
        for n in range(args.rounds):
            # Alternating order, so neither variant always runs on a warmer (or busier) machine.
            order = (False, True) if n % 2 == 0 else (True, False)
            for convert in order:
                (converted if convert else plain).append(
                    commit_once(importer, args.import_rows, (200 if convert else 100) + n, convert=convert)
                )
        best_plain, best_converted = max(plain), max(converted)
        converter_us = converter_cost_us(args.import_rows)

        copier = new_user("copy")
        copy_account = Account.objects.create(user=copier, name="EUR copy", currency="EUR")
        copy_skip = copy_rows(copier, copy_account, args.import_rows, random.Random(3), skip_trigger=True)
        copy_trigger = copy_rows(copier, copy_account, args.import_rows, random.Random(4), skip_trigger=False)

        mixed = new_user("mixed")
        rng = random.Random(42)
        seed_started = time.perf_counter()
        seed_mixed(mixed, args.transactions, rng)
        seed_s = time.perf_counter() - seed_started
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE ledger_transaction")
        User.objects.filter(pk=mixed.pk).update(base_currency="GBP")
        started = time.perf_counter()
        recomputed = currency.user_amounts_recompute(user_id=mixed.pk)
        recompute_s = time.perf_counter() - started
        mixed.refresh_from_db()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE ledger_transaction")

        month_start = datetime.date(2026, 10, 1)
        Budget.objects.bulk_create(
            Budget(user=mixed, category=category, amount=Decimal("5000.00"), start_date=month_start,
                   end_date=LAST_RATE_DAY + datetime.timedelta(days=1))
            for category in CATEGORY_NAMES[: args.budgets]
        )  # fmt: skip

        def status_samples():
            samples = []
            for _ in range(args.iterations):
                started = time.perf_counter()
                budget_selectors.budget_status(user=mixed)
                samples.append((time.perf_counter() - started) * 1000)
            return percentiles(samples)

        status_converted = status_samples()
        kes = Account.objects.create(user=mixed, name="KES", currency="KES")
        copy_rows(mixed, kes, args.unconverted, rng, skip_trigger=False)
        Transaction.objects.filter(account=kes).update(date=month_start + datetime.timedelta(days=3))
        status_with_unconverted = status_samples()
        left_out = budget_selectors.budget_status(user=mixed)["unconverted"]

        print(
            json.dumps(
                {
                    "bench": "currency",
                    "import_rows": args.import_rows,
                    "import": {
                        "commit_rows_per_s_without_conversion": round(best_plain),
                        "commit_rows_per_s_with_conversion": round(best_converted),
                        "overhead_pct": round((best_plain / best_converted - 1) * 100, 1),
                        # The conversion alone (BulkConverter: one rate query, then a dict lookup and a
                        # Decimal multiply per row) against the converted commit's time per row: the
                        # noise-free figure of what converting costs the import.
                        "converter_us_per_row": round(converter_us, 2),
                        "converter_share_pct": round(converter_us * best_converted / 1e4, 2),
                    },
                    "trigger": {
                        "copy_rows_per_s_skipped": round(copy_skip),
                        "copy_rows_per_s_converting": round(copy_trigger),
                        "overhead_pct": round((copy_skip / copy_trigger - 1) * 100, 1),
                    },
                    "transactions": args.transactions,
                    "seed_s": round(seed_s, 1),
                    "recompute": {"rows": recomputed, "seconds": round(recompute_s, 2)},
                    "budgets": args.budgets,
                    "status": status_converted,
                    "status_with_unconverted": {**status_with_unconverted, "unconverted": len(left_out)},
                    "targets": {"import_overhead_pct": 10, "recompute_s": 10, "status_ms": 50},
                },
                default=str,
            )
        )
    finally:
        for user in users:
            Import.objects.filter(user=user).delete()
            Transaction.objects.filter(user=user).delete()
            user.delete()


if __name__ == "__main__":
    main()
