"""Merchant search benchmark.

Generates N synthetic merchants (with aliases) in the database named by
DATABASE_URL, runs the search selector over a mix of exact, alias, prefix
and misspelt queries, EXPLAINs one query of each kind to check that the
indexes serve every tier, deletes the generated rows and prints one JSON
line.

    DATABASE_URL=postgres://... .venv/bin/python bench/merchant_search.py --merchants 100000
"""

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402

from merchants.categories import CATEGORY_NAMES  # noqa: E402
from merchants.models import Merchant  # noqa: E402
from merchants.selectors import merchant_search, merchant_search_sql  # noqa: E402
from merchants.services import merchant_fields  # noqa: E402

BENCH_TAG = "bench:merchant_search"
SYLLABLES = (
    "ka ro mi ta lu ve sa no pe ri zo an el or un is ba de fi go ha ju ki le ma ne po qu ra si "
    "tu vo wa xi ya zu bri cla dro fle gri kro pla sto tra vin"
).split()
NOUNS = (
    "Market Bistro Cafe Pharmacy Outfitters Books Electronics Garage Bakery Grill Salon Fitness Travel Motors "
    "Hardware Florist Studio Kitchen Supply Depot Goods Foods Tailors Optics Dental Clinic Cinema Games Pets "
    "Deli Brewery Coffee Records Sports Toys Jewels Homes Rentals Cleaners Laundry Parking Telecom Energy Water "
    "Insurance Academy Tutors Books Music Print Outlet Traders Express"
).split()


def synthetic_names(count: int, rng: random.Random) -> list[str]:
    names, seen = [], set()
    while len(names) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        name = f"{word} {rng.choice(NOUNS)}"
        if rng.random() < 0.3:
            name = f"{name} {rng.choice(NOUNS)}"
        if name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def aliases_for(name: str, index: int) -> list[str]:
    first, *rest = name.upper().split(" ")
    return [f"{first} {rest[0][:4]}*{index:06d}", f"SQ *{first[:10]} {rest[0][:3]}"]


def misspell(name: str, rng: random.Random) -> str:
    chars = list(name)
    pos = rng.randrange(1, len(chars) - 1)
    if rng.random() < 0.5:
        del chars[pos]
    else:
        chars[pos], chars[pos + 1] = chars[pos + 1], chars[pos]
    return "".join(chars)


def percentile(values, pct):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def explain(query: str) -> dict:
    sql, params = merchant_search_sql(q=query, limit=20)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    indexes = sorted(set(re.findall(r"(?:Index|Bitmap Index) Scan (?:Backward )?(?:using|on) (\w+)", plan)))
    seq_scans = len(re.findall(r"Seq Scan on merchants_merchant", plan))
    total = re.search(r"Execution Time: ([\d.]+) ms", plan)
    return {"indexes": indexes, "seq_scans": seq_scans, "execution_ms": float(total.group(1)) if total else None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400, help="Total queries, split over the four kinds.")
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Leave the generated merchants in place.")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    Merchant.objects.filter(tags__contains=[BENCH_TAG]).delete()
    names = synthetic_names(args.merchants, rng)
    started = time.perf_counter()
    try:
        batch = []
        for index, name in enumerate(names):
            aliases = aliases_for(name, index)
            batch.append(
                Merchant(
                    canonical_name=name,
                    category=CATEGORY_NAMES[index % len(CATEGORY_NAMES)],
                    country="US",
                    aliases=aliases,
                    tags=[BENCH_TAG],
                    **merchant_fields(canonical_name=name, aliases=aliases),
                )
            )
            if len(batch) >= args.batch_size:
                Merchant.objects.bulk_create(batch)
                batch = []
        Merchant.objects.bulk_create(batch)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE merchants_merchant")
        load_seconds = time.perf_counter() - started

        per_kind = max(1, args.queries // 4)
        picks = rng.sample(range(len(names)), min(len(names), per_kind * 4))
        workload = []
        for n, index in enumerate(picks):
            name = names[index]
            kind = ("exact", "alias", "prefix", "misspelt")[n % 4]
            query = {
                "exact": name,
                "alias": aliases_for(name, index)[0],
                "prefix": name[: max(4, len(name) // 2)],
                "misspelt": misspell(name, rng),
            }[kind]
            workload.append((kind, query, name))

        merchant_search(q=workload[0][1])  # warm the connection and plan cache
        timings = {kind: [] for kind in ("exact", "alias", "prefix", "misspelt")}
        found = {kind: 0 for kind in timings}
        for kind, query, expected in workload:
            t0 = time.perf_counter()
            results = merchant_search(q=query, limit=20)
            timings[kind].append((time.perf_counter() - t0) * 1000)
            found[kind] += any(m.canonical_name == expected for m in results)

        all_ms = [ms for values in timings.values() for ms in values]
        samples = {kind: next(q for k, q, _ in workload if k == kind) for kind in timings}
        plans = {kind: explain(query) for kind, query in samples.items()}
        result = {
            "bench": "merchant_search",
            "merchants": args.merchants,
            "total_merchants_in_table": Merchant.objects.count(),
            "queries": len(all_ms),
            "p50_ms": round(statistics.median(all_ms), 2),
            "p95_ms": round(percentile(all_ms, 95), 2),
            "max_ms": round(max(all_ms), 2),
            "by_kind_p95_ms": {kind: round(percentile(values, 95), 2) for kind, values in timings.items()},
            "found_rate": {kind: round(found[kind] / len(timings[kind]), 3) for kind in timings},
            "explain": plans,
            "load_seconds": round(load_seconds, 1),
            "target_p95_ms": 50,
        }
        result["pass"] = result["p95_ms"] <= 50 and all(p["seq_scans"] == 0 for p in plans.values())
    finally:
        if not args.keep:
            Merchant.objects.filter(tags__contains=[BENCH_TAG]).delete()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
