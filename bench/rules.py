"""Rules benchmark: the cost of 50 rules on a 100k-row CSV import, and
rules/{id}/preview over the user's 100k transactions.

Imports the same generated file twice, into two fresh users: one without
rules, one with 50 (text, amount, nested any/all, two regex), and reports
the overhead of the commit (`--path commit`, the default: POST imports then
imports/{id}/commit; only the commit is timed) or of the one-call legacy
importer (`--path legacy`); then times POST rules/{id}/preview (first page with count)
for a selective and a broad rule. Prints ONE JSON line and deletes what it
created.

    DATABASE_URL=... .venv/bin/python bench/rules.py --rows 100000
"""

import argparse
import io
import json
import os
import random
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
from ledger.imports import commits, previews  # noqa: E402
from ledger.imports import services as import_services  # noqa: E402
from ledger.models import Account, Import, Rule  # noqa: E402
from ledger.rules import services as rules  # noqa: E402
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--path", choices=("commit", "legacy"), default="commit")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    tag = uuid.uuid4().hex[:8]
    plain = User.objects.create_user(email=f"bench-rules-{tag}-plain@example.com", password=None)
    ruled = User.objects.create_user(email=f"bench-rules-{tag}-ruled@example.com", password=None)
    result = {"bench": "rules", "rows": args.rows, "rules": 50, "path": args.path}
    try:
        content = csv_file(args.rows, rng)
        for position, (name, conditions, actions) in enumerate(fifty_rules(rng)):
            rules.rule_create(user=ruled, name=name, conditions=conditions, actions=actions, position=position)

        def timed_import(user) -> tuple[float, int]:
            if args.path == "legacy":
                started = time.perf_counter()
                imported = import_services.transactions_import(user=user, content=content).imported
                return time.perf_counter() - started, imported
            account = Account.objects.create(user=user, name="Bench", currency="USD")
            upload = SimpleUploadedFile("bench.csv", content.encode())
            # The generated file writes money out positive, as Tally does.
            source = previews.import_preview(user=user, account_id=account.id, upload=upload,
                                             overrides={"sign": "positive_is_out"})  # fmt: skip
            started = time.perf_counter()
            done = commits.import_commit(user=user, import_id=source.id, run_async=False)
            return time.perf_counter() - started, done.imported_count

        without, imported_plain = timed_import(plain)
        with_, imported_ruled = timed_import(ruled)
        applied = sum(Rule.objects.filter(user=ruled).values_list("applied_count", flat=True))
        result["import"] = {
            "imported": [imported_plain, imported_ruled],
            "seconds_without_rules": round(without, 2),
            "seconds_with_50_rules": round(with_, 2),
            "overhead_pct": round(100 * (with_ - without) / without, 1),
            "rule_hits": applied,
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
        result["preview"] = {}
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
    finally:
        users = [[plain.id, ruled.id]]
        mine = "SELECT id FROM ledger_transaction WHERE user_id = ANY(%s)"
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM ledger_importrow WHERE source_import_id IN "
                           "(SELECT id FROM ledger_import WHERE user_id = ANY(%s))", users)  # fmt: skip
            for table in ("ledger_transactionchange", "ledger_transaction_tags", "ledger_splitline"):
                cursor.execute(f"DELETE FROM {table} WHERE transaction_id IN ({mine})", users)
            cursor.execute("DELETE FROM ledger_transaction WHERE user_id = ANY(%s)", users)
        Import.objects.filter(user_id__in=[plain.id, ruled.id]).delete()
        User.objects.filter(id__in=[plain.id, ruled.id]).delete()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
