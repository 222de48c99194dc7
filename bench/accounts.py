"""Accounts benchmark: one user with N transactions over 10 accounts (COPY
into its own user, removed afterwards). Measures the account list with
balances, a 24-month monthly balance series and net worth (one JSON line),
then for each import size what transfer matching adds to an import
(preview + commit) of that many rows, as a ratio of imports with and without
matching alternated in the same run (one JSON line per size).

    DATABASE_URL=... .venv/bin/python bench/accounts.py --transactions 100000 --import-rows 10000,100000
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# As a worker runs (bench/imports.py does the same): with DEBUG, Django keeps
# each statement's SQL with its arrays of thousands of ids formatted in, a
# cost no worker pays that lands mostly on matching's statements.
settings.DEBUG = False

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from bench.timing import timed  # noqa: E402
from ledger.books import selectors  # noqa: E402
from ledger.books import services as books  # noqa: E402
from ledger.books.matching import MatchOutcome  # noqa: E402
from ledger.books.prematch import TransferPlan  # noqa: E402
from ledger.imports import commits, previews  # noqa: E402
from ledger.models import Account, Import, Transaction, Transfer, TransferSuggestion  # noqa: E402
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


def statement(rows, *, rng, first_day, days):
    """A CSV statement of `rows` rows of money out (negative, as a bank
    writes it; the import makes it positive) dated in [first_day, first_day + days)."""
    lines, amounts = ["date,amount,merchant"], []
    for n in range(rows):
        day = first_day + datetime.timedelta(days=rng.randrange(days))
        cents = rng.randint(100, 20000)
        amounts.append((day, cents))
        lines.append(f"{day.isoformat()},{-cents / 100:.2f},Import shop {n % 300}")
    return ("\n".join(lines) + "\n").encode(), amounts


def counterparts(user, account, amounts, *, every: int, rng):
    """A payment into `account` for every `every`-th statement row: the
    opposite amount, up to 2 days later (what a card payment looks like)."""
    now = timezone.now()
    with connection.cursor() as cursor, cursor.copy(f"COPY ledger_transaction ({COLUMNS}) FROM STDIN") as copy:
        for day, cents in amounts[::every]:
            copy.write_row(
                (
                    uuid.uuid4(), now, now, user.id, account.id, "standard", f"{-cents / 100:.2f}", "USD",
                    day + datetime.timedelta(days=rng.randrange(3)), "Payment", "payment", "Uncategorized", "csv",
                    "", "", "{}", "", "", False,
                )
            )  # fmt: skip


# What transfer matching is in a commit: the plan decided before the rows
# are written and applied to each batch (books.prematch), and the matching
# of written rows it falls back to (and the cross-currency suggestions).
MATCHING = ("transfers_plan", "_link_planned", "transfers_match", "transfers_suggest_fx")
EMPTY = {"transfers_plan": None, "_link_planned": ({}, [], []), "transfers_match": MatchOutcome(),
         "transfers_suggest_fx": 0}  # fmt: skip


def import_once(user, account, content, *, match: bool) -> dict:
    """Preview + commit of one file (synchronously); with match=False each
    of the commit's calls into transfer matching does nothing (no plan, no
    links, no suggestions), with match=True each is timed."""
    spent = {"match_s": 0.0}
    originals = {name: getattr(commits, name) for name in MATCHING}
    original_suggest = TransferPlan.suggest

    def timed(function):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent["match_s"] += time.perf_counter() - start

        return call

    def nothing(name):
        return lambda *args, **kwargs: EMPTY[name]

    for name, function in originals.items():
        setattr(commits, name, timed(function) if match else nothing(name))
    TransferPlan.suggest = timed(original_suggest)
    try:
        start = time.perf_counter()
        source = previews.import_preview(user=user, account_id=account.id, upload=SimpleUploadedFile("s.csv", content))
        previewed = time.perf_counter()
        done = commits.import_commit(user=user, import_id=source.id, run_async=False)
        finished = time.perf_counter()
    finally:
        for name, function in originals.items():
            setattr(commits, name, function)
        TransferPlan.suggest = original_suggest
    return {
        "import_s": finished - start,
        "commit_s": finished - previewed,
        "match_s": spent["match_s"],
        "imported": done.imported_count,
        "transfers_matched": done.transfers_matched,
    }


def matching_overhead(user, *, rows: int, repeat: int, rng) -> dict:
    """Imports of `rows` rows with and without transfer matching, alternated
    in one run (without, with, with, without, ...), each into its own
    checking account and its own 60-day window (no run sees another's
    counterparts); a tenth of each file's rows has its payment on a card.
    -> medians and the ratio."""
    today = timezone.localdate()
    runs = {False: [], True: []}
    for index in range(2 * repeat):
        match = (index % 4) in (1, 2)
        checking = books.account_create(user=user, name=f"Import {rows} {index}", kind="checking", currency="USD")
        card = books.account_create(user=user, name=f"Card {rows} {index}", kind="credit_card", currency="USD")
        first_day = today - datetime.timedelta(days=60 * (index + 1) + 10)
        content, amounts = statement(rows, rng=rng, first_day=first_day, days=60)
        counterparts(user, card, amounts, every=10, rng=rng)
        runs[match].append(import_once(user, checking, content, match=match))

    def median(match, key):
        return statistics.median(run[key] for run in runs[match])

    without_import, with_import = median(False, "import_s"), median(True, "import_s")
    without_commit, with_commit = median(False, "commit_s"), median(True, "commit_s")
    return {
        "bench": "accounts_matching",
        "rows": rows,
        "repeat": repeat,
        "without_matching_import_s": round(without_import, 3),
        "with_matching_import_s": round(with_import, 3),
        "matching_overhead_pct": round((with_import / without_import - 1) * 100, 1),
        "without_matching_commit_s": round(without_commit, 3),
        "with_matching_commit_s": round(with_commit, 3),
        "commit_overhead_pct": round((with_commit / without_commit - 1) * 100, 1),
        "match_s": round(median(True, "match_s"), 3),
        "match_share_of_import_pct": round(median(True, "match_s") / without_import * 100, 1),
        "transfers_matched": [run["transfers_matched"] for run in runs[True]],
        "expected_transfers": rows // 10,
        "target_overhead_pct": 20,
        "load": os.getloadavg()[0],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument(
        "--import-rows", default="2000", help="Comma-separated import sizes, one JSON line each (e.g. 10000,100000)."
    )
    parser.add_argument("--repeat", type=int, default=1, help="Pairs of imports (without, with) per size.")
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
                    "targets": {"balances_p95_ms": 50, "series_p95_ms": 50},
                    "load": os.getloadavg()[0],
                }
            ),
            flush=True,
        )
        for rows in (int(size) for size in args.import_rows.split(",") if size.strip()):
            print(json.dumps(matching_overhead(user, rows=rows, repeat=args.repeat, rng=rng)), flush=True)
    finally:
        Transfer.objects.filter(user=user).delete()
        TransferSuggestion.objects.filter(user=user).delete()
        Transaction.objects.filter(user=user).delete()
        Import.objects.filter(user=user).delete()
        Account.objects.filter(user=user).delete()
        user.delete()


if __name__ == "__main__":
    main()
