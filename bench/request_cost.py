"""Per-request cost in-process (Django test client, no server): /health/, an
authenticated trivial endpoint (GET categories) and a transactions page, and the
trivial endpoint again with the session cache emptied before each request
(the database check every request paid before the cache), in production settings (DEBUG off). Prints ONE
JSON line of p50/p95 (and this process's CPU p50) in ms and
deletes the user it created. --profile PATH writes a pyinstrument text
profile of the authenticated endpoint there.

    DATABASE_URL=... .venv/bin/python bench/request_cost.py --iterations 300 --transactions 2000
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.servers import PRODUCTION_ENV  # noqa: E402

os.environ.update(PRODUCTION_ENV)  # production settings, as bench/servers.py runs the servers

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from accounts import services as account_services  # noqa: E402
from accounts.models import User  # noqa: E402
from accounts.session_cache import session_key, user_key  # noqa: E402
from config.cache import cache_delete_many  # noqa: E402


def _pctl(samples, q):
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)


def _time(client, path, iterations, headers, before=None):
    samples, cpu = [], []
    for _ in range(iterations):
        if before:
            before()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        cpu.append((time.process_time() - cpu_started) * 1000)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.content[:200])
    # This process's CPU per request beside the wall time: less moved by what else runs on the machine.
    return {"p50": round(statistics.median(samples), 3), "p95": _pctl(samples, 0.95), "cpu_p50": _pctl(cpu, 0.5)}


def _seed_transactions(user, count):
    import random

    from bench.ledger import seed  # the ledger bench's COPY seeding

    seed([user.pk], [count], random.Random(7))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--transactions", type=int, default=0, help="seed this many for the list timing")
    parser.add_argument("--profile", help="write a pyinstrument profile of GET categories here")
    args = parser.parse_args()

    user = User.objects.create_user(email=f"bench-cost-{time.time_ns()}@example.com", password="bench-pass-123")
    try:
        pair = account_services.session_start(user=user)
        headers = {"Authorization": f"Bearer {pair.access}"}
        client = Client()
        paths = {"health": "/health/", "categories": "/api/v1/categories"}
        if args.transactions:
            _seed_transactions(user, args.transactions)
            paths["transactions"] = "/api/v1/transactions?limit=50"
        for path in paths.values():  # warm imports, pools and caches
            for _ in range(20):
                client.get(path, headers=headers)
        result = {"bench": "request_cost", "iterations": args.iterations, "seeded": args.transactions}
        for name, path in paths.items():
            result[name] = _time(client, path, args.iterations, headers)
        # The same request with the session cache emptied first: the database check every request made before.
        forget = lambda: cache_delete_many([session_key(pair.session.id), user_key(user.pk)])  # noqa: E731
        result["categories_session_from_db"] = _time(client, paths["categories"], args.iterations, headers, forget)
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            with profiler:
                for _ in range(args.iterations):
                    client.get(paths["categories"], headers=headers)
            Path(args.profile).write_text(profiler.output_text(unicode=False, color=False))
        result["load"] = os.getloadavg()[0]
        print(json.dumps(result))
    finally:
        from ledger.models import Transaction

        Transaction.all_objects.filter(user=user).delete() if hasattr(Transaction, "all_objects") else None
        Transaction.objects.filter(user=user).delete()
        user.delete()


if __name__ == "__main__":
    main()
