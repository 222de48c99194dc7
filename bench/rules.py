"""Rules benchmark: the cost of 50 rules on an N-row CSV import (the issue
asks 100k), rules/{id}/preview over those rows, and a bulk edit of 10,000.

Import: after a small warm-up import of each kind, the same generated file
is committed `--rounds` times into fresh users without rules and with 50
(text, amount, nested any/all, two regex), alternating which goes first, so
both kinds see the same machine load. Each round gives a with/without ratio;
the figure is the median ratio. Only the commit is timed (`--path commit`,
the default: imports/{id}/commit after the preview) or the one-call legacy
importer (`--path legacy`). Inside the ruled commits the rules' share is
split into evaluation (scanning and applying), the batch writes after COPY
(tags, counters, ...) and, inside those, the TransactionChange audit rows.

Preview: POST rules/{id}/preview (first page with count) for a selective
and a broad rule over the last ruled user's rows.

Bulk edit: POST transactions/bulk on `--bulk` (10,000) of that user's rows
by ids, setting a category (each round another one, so every row changes),
adding a tag, and by filter; p50/max ms, the audit's share and the tag change's.

Prints ONE JSON line (with the load average before and after) and deletes
what it created.

    DATABASE_URL=... .venv/bin/python bench/rules.py --rows 100000 --rounds 3
"""

import argparse
import contextlib
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from accounts.models import User  # noqa: E402
from ledger.imports import commits, one_call, previews  # noqa: E402
from ledger.models import Account, Import, Rule, Transaction, TransactionChange  # noqa: E402
from ledger.rules import engine  # noqa: E402
from ledger.rules import services as rules  # noqa: E402
from ledger.transactions import bulk as bulk_module  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402

WORDS = [
    "bakery", "market", "fuel", "cinema", "pharmacy", "books", "hardware", "coffee", "taxi", "airline",
    "hotel", "grocer", "amzn", "amazon", "uber", "netflix", "spotify", "gym", "dentist", "florist",
]  # fmt: skip


def _pctl(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def fifty_rules(rng):
    out = []
    for i in range(50):
        word = WORDS[i % len(WORDS)]
        category = CATEGORY_NAMES[i % len(CATEGORY_NAMES)]
        kind = i % 5
        if kind == 0:
            conditions = {"all": [{"field": "merchant_raw", "op": "contains", "value": f"{word} {i}"}]}
        elif kind == 1:
            conditions = {
                "all": [
                    {"any": [
                        {"field": "merchant_raw", "op": "starts_with", "value": word},
                        {"field": "notes", "op": "contains", "value": word},
                    ]},
                    {"field": "amount", "op": "gt", "value": 400 + i},
                ]
            }  # fmt: skip
        elif kind == 2:
            conditions = {"all": [{"field": "amount", "op": "between", "value": [i, i + 0.5]}]}
        elif kind == 3:
            conditions = {"any": [
                {"all": [{"field": "weekday", "op": "eq", "value": 1 + i % 7},
                         {"field": "merchant_raw", "op": "ends_with", "value": f" {i}"}]},
                {"not": {"field": "direction", "op": "eq", "value": "out"}},
            ]}  # fmt: skip
        else:
            op = "regex" if i in (4, 9) else "eq"
            value = f"^{word} 1[0-9]$" if op == "regex" else f"{word.title()} {i}"
            conditions = {"all": [{"field": "merchant_raw", "op": op, "value": value}]}
        actions = [{"type": "set_category", "value": category}]
        if i % 3 == 0:
            actions.append({"type": "add_tags", "value": [f"t{i % 7}"]})
        out.append((f"rule {i}", conditions, actions))
    return out


def csv_file(rows, rng):
    buffer = io.StringIO()
    buffer.write("date,amount,merchant,notes\n")
    today = date.today()
    for _ in range(rows):
        word = rng.choice(WORDS)
        day = today - timedelta(days=rng.randint(0, 700))
        sign = -1 if rng.random() < 0.05 else 1
        note = rng.choice(["", "", "", f"note {rng.choice(WORDS)}"])
        amount = sign * rng.randint(100, 50000) / 100
        buffer.write(f"{day.isoformat()},{amount:.2f},{word.title()} {rng.randint(1, 400)},{note}\n")
    return buffer.getvalue()


class Clock:
    """Seconds spent inside wrapped functions (module attributes, replaced
    for the run): a function called from inside another wrapped one counts
    in both."""

    def __init__(self):
        self.seconds = {}
        self.calls = {}

    @contextlib.contextmanager
    def wrap(self, label, module, name):
        original = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] = self.seconds.get(label, 0.0) + time.perf_counter() - started
                self.calls[label] = self.calls.get(label, 0) + 1

        setattr(module, name, timed)
        try:
            yield
        finally:
            setattr(module, name, original)

    def take(self):
        out = {k: round(v, 3) for k, v in self.seconds.items()}
        self.seconds.clear()
        self.calls.clear()
        return out


def _load():
    return [round(x, 2) for x in os.getloadavg()]


def _user(tag, label, with_rules, rng):
    user = User.objects.create_user(email=f"bench-rules-{tag}-{label}@example.com", password=None)
    if with_rules:
        for position, (name, conditions, actions) in enumerate(fifty_rules(rng)):
            rules.rule_create(user=user, name=name, conditions=conditions, actions=actions, position=position)
    return user


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="with/without pairs of imports, alternating")
    parser.add_argument("--repeat", type=int, default=15, help="preview calls per rule")
    parser.add_argument("--bulk", type=int, default=10_000, help="rows per bulk edit")
    parser.add_argument("--bulk-repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--path", choices=("commit", "legacy"), default="commit")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:8]
    users = []
    clock = Clock()
    result = {"bench": "rules", "rows": args.rows, "rules": 50, "path": args.path, "rounds": args.rounds,
              "load_before": _load()}  # fmt: skip
    try:
        content = csv_file(args.rows, rng)

        def timed_import(user, text) -> tuple[float, int]:
            if args.path == "legacy":
                started = time.perf_counter()
                upload = SimpleUploadedFile("bench.csv", text.encode())
                imported = one_call.transactions_import(user=user, upload=upload, run_async=False).result["imported"]
                return time.perf_counter() - started, imported
            account = Account.objects.create(user=user, name="Bench", currency="USD")
            upload = SimpleUploadedFile("bench.csv", text.encode())
            # The generated file writes money out positive, as Tally does.
            source = previews.import_preview(user=user, account_id=account.id, upload=upload,
                                             overrides={"sign": "positive_is_out"})  # fmt: skip
            started = time.perf_counter()
            done = commits.import_commit(user=user, import_id=source.id, run_async=False)
            return time.perf_counter() - started, done.imported_count

        warm = csv_file(min(args.rows, 1000), random.Random(args.seed + 1))
        for index, with_rules in enumerate((False, True)):
            user = _user(tag, f"warm{index}", with_rules, rng)
            users.append(user)
            timed_import(user, warm)

        rounds, breakdown, ruled = [], [], None
        with (
            clock.wrap("evaluate", commits, "_rules_run"),
            clock.wrap("write", engine.Outcome, "write"),
            clock.wrap("audit", engine, "changes_record"),
        ):
            for number in range(args.rounds):
                order = (False, True) if number % 2 == 0 else (True, False)
                seconds = {}
                for with_rules in order:
                    user = _user(tag, f"r{number}-{'ruled' if with_rules else 'plain'}", with_rules, rng)
                    users.append(user)
                    clock.take()
                    elapsed, imported = timed_import(user, content)
                    parts = clock.take()
                    seconds[with_rules] = elapsed
                    if with_rules:
                        ruled = user
                        breakdown.append(parts)
                rounds.append({"without_s": round(seconds[False], 2), "with_s": round(seconds[True], 2),
                               "ratio": round(seconds[True] / seconds[False], 3), "load": _load()})  # fmt: skip
        ratios = [r["ratio"] for r in rounds]
        median_ratio = statistics.median(ratios)
        applied = sum(Rule.objects.filter(user=ruled).values_list("applied_count", flat=True))
        audit_rows = TransactionChange.objects.filter(transaction__user=ruled).count()
        result["import"] = {
            "imported_per_commit": imported,
            "rounds": rounds,
            "median_ratio": round(median_ratio, 3),
            "overhead_pct": round(100 * (median_ratio - 1), 1),
            "target_pct": 30,
            "ruled_commit_parts_s": breakdown,
            "rule_hits_last": applied,
            "audit_rows_last": audit_rows,
        }
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE ledger_transaction")

        client = APIClient()
        client.force_authenticate(ruled)
        selective = rules.rule_create(
            user=ruled,
            name="selective",
            conditions={
                "all": [
                    {
                        "any": [
                            {"field": "merchant_raw", "op": "contains", "value": "amzn"},
                            {"field": "merchant_raw", "op": "contains", "value": "amazon"},
                        ]
                    },
                    {"field": "amount", "op": "gt", "value": 450},
                ]
            },  # fmt: skip
            actions=[{"type": "add_tags", "value": ["big-online"]}, {"type": "set_category", "value": "Shopping"}],
        )
        broad = rules.rule_create(
            user=ruled,
            name="broad",
            conditions={"not": {"field": "notes", "op": "regex", "value": "^note (fuel|taxi)"}},
            actions=[{"type": "append_notes", "value": "seen"}],
        )
        result["preview"] = {"target_ms": 500, "over_rows": Transaction.objects.filter(user=ruled).count()}
        for label, rule in (("selective", selective), ("broad", broad)):
            url = f"/api/v1/rules/{rule.id}/preview"
            client.post(url, {}, format="json")  # warm
            samples, count = [], None
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.post(url, {}, format="json")
                samples.append((time.perf_counter() - started) * 1000)
                count = response.json()["count"]
            result["preview"][label] = {
                "matches": count,
                "p50_ms": round(_pctl(samples, 0.5), 1),
                "p95_ms": round(_pctl(samples, 0.95), 1),
            }
        result["preview"]["load"] = _load()
        result["bulk_edit"] = _bulk(client, ruled, args, clock)
    finally:
        ids = [[u.id for u in users]]
        mine = "SELECT id FROM ledger_transaction WHERE user_id = ANY(%s)"
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_importrow WHERE source_import_id IN "
                           "(SELECT id FROM ledger_import WHERE user_id = ANY(%s))", ids)  # fmt: skip
            for table in ("ledger_transactionchange", "ledger_transaction_tags", "ledger_splitline",
                          "ledger_categorycorrection"):  # fmt: skip
                cursor.execute(f"DELETE FROM {table} WHERE transaction_id IN ({mine})", ids)
            cursor.execute("UPDATE ledger_transaction SET transfer_id = NULL WHERE user_id = ANY(%s)", ids)
            cursor.execute("DELETE FROM ledger_transfersuggestion WHERE user_id = ANY(%s)", ids)
            cursor.execute("DELETE FROM ledger_transfer WHERE user_id = ANY(%s)", ids)
            cursor.execute("DELETE FROM ledger_transaction WHERE user_id = ANY(%s)", ids)
        Import.objects.filter(user_id__in=ids[0]).delete()
        User.objects.filter(id__in=ids[0]).delete()
        # Printed whatever happened: a late failure keeps the figures measured before it.
        result["load_after"] = _load()
        print(json.dumps(result), flush=True)


def _bulk(client, user, args, clock) -> dict:
    """POST transactions/bulk on `args.bulk` rows: by ids setting a category
    (another each time, so every row changes) and adding a tag, and by a
    filter (a date range holding about that many rows) setting notes."""
    ids = [str(i) for i in Transaction.objects.filter(user=user).order_by("date", "id").values_list("id", flat=True)
           [: args.bulk]]  # fmt: skip
    days = list(Transaction.objects.filter(id__in=ids).values_list("date", flat=True))
    since, until = min(days).isoformat(), max(days).isoformat()
    out = {"rows": len(ids), "target_ms": 2000}
    categories = ["Shopping", "Groceries", "Travel", "Health", "Entertainment", "Housing", "Education"]
    variants = {
        "ids_category_and_tag": lambda n: {"ids": ids, "set": {"category": categories[n % len(categories)],
                                                                "tags_add": [f"bulk{n}"]}},
        "filter_notes": lambda n: {"filter": {"since": since, "until": until}, "set": {"notes": f"bulk {n}"}},
    }  # fmt: skip
    with (
        clock.wrap("audit", bulk_module, "changes_record_column"),
        clock.wrap("tags", bulk_module, "transaction_tags_change"),
    ):
        for label, body in variants.items():
            samples, parts, answer = [], [], None
            for n in range(args.bulk_repeat):
                clock.take()
                started = time.perf_counter()
                response = client.post("/api/v1/transactions/bulk", body(n), format="json")
                samples.append((time.perf_counter() - started) * 1000)
                parts.append(clock.take())
                if response.status_code != 200:
                    raise SystemExit(f"bulk {label}: {response.status_code} {response.content[:300]}")
                answer = response.json()
            out[label] = {
                "p50_ms": round(statistics.median(samples), 1),
                "max_ms": round(max(samples), 1),
                "answer": {"matched": answer["matched"], "changed": answer["changed"]},
                # Category, notes and account audit rows (one INSERT ... SELECT each).
                "audit_s_median": round(statistics.median(p.get("audit", 0) for p in parts), 3),
                # The tag change: pairs deleted and inserted and their audit rows, one statement.
                "tags_s_median": round(statistics.median(p.get("tags", 0) for p in parts), 3),
            }
    out["load"] = _load()
    return out


if __name__ == "__main__":
    main()
