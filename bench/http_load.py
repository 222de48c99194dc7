"""HTTP load benchmark, the whole path: the production server line of `make run`
(``front``: nginx, granian's WSGI workers, daphne for /ws/; bench/servers.py)
against one daphne process (``daphne``, the baseline) in the same run, both up
at once and measured in turn (front, daphne, front, daphne ...), so a change in
the machine's load hits both alike.

The load is wrk (C, event loop; Debian's package: apt-get install wrk) with C
connections: first the realistic mix (weights below) for --seconds, then each
endpoint alone for --endpoint-seconds (the per-endpoint figures; wrk's Lua
cannot tell which endpoint a response in a mixed run belongs to). Every request
carries the bearer token of one of --users users, each seeded with
--transactions rows and six budgets. wrk's own CPU time is reported
(``loadgen_cores``): on two cores it is part of what the servers do not get.

Prints one JSON line: per server and run requests/s, p50/p95/p99, errors
(transport and HTTP >= 400), and the front/daphne ratios. Targets (issue 20):
the mix >= 3x daphne's requests/s with p95 <= 250 ms and no errors; categories
>= 1,000 requests/s; the list >= 300 requests/s.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/http_load.py --clients 32 --seconds 30

Users and their rows are created here and deleted afterwards (tagged e-mails).
"""

import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from bench.servers import KINDS, PRODUCTION_ENV, Server  # noqa: E402

# The tokens minted here must verify in the servers: the same SECRET_KEY and settings.
os.environ.update(PRODUCTION_ENV)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.services import session_start  # noqa: E402
from budgets.models import Budget  # noqa: E402
from ledger.books.guards import account_default  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402
from merchants.models import Merchant  # noqa: E402

MERCHANTS = ["Starbucks", "Whole Foods Market", "Shell", "Amazon", "Netflix", "Uber", "Corner Cafe", "Lidl"]
COLUMNS = (
    "id, user_id, amount, currency, date, merchant_raw, merchant_normalized, category, source, notes, external_id, "
    "confidence, blockchain_hash, ipfs_cid, is_deleted, created_at, updated_at, account_id, kind"
)
TARGETS = {"mix_ratio": 3.0, "mix_p95_ms": 250, "categories_rps": 1000, "list_rps": 300}


def mix() -> list[tuple[int, str, str]]:
    """(weight, name, path): what a client of the API reads most."""
    since = (datetime.date.today() - datetime.timedelta(days=90)).isoformat()
    return [
        (10, "health", "/health/"),
        (20, "categories", "/api/v1/categories"),
        (30, "list", "/api/v1/transactions?limit=50"),
        (15, "list_filtered", f"/api/v1/transactions?limit=50&category=Groceries&since={since}"),
        (10, "budgets", "/api/v1/budgets"),
        (15, "merchant_search", "/api/v1/merchants/search?q=starbuks"),
    ]


def seed(users, *, transactions: int, rng: random.Random) -> None:
    today, now = timezone.localdate(), timezone.now()
    accounts = {user.id: account_default(user=user, currency="USD").id for user in users}
    with connection.cursor() as cursor, cursor.copy(f"COPY ledger_transaction ({COLUMNS}) FROM STDIN") as copy:
        for user in users:
            for _ in range(transactions):
                name = rng.choice(MERCHANTS)
                copy.write_row(
                    (
                        uuid.uuid4(), user.id, f"{rng.randint(100, 20000) / 100:.2f}", "USD",
                        today - datetime.timedelta(days=rng.randrange(400)), f"{name} #{rng.randrange(90)}",
                        name.lower(), rng.choice(CATEGORY_NAMES), "csv", "", "", "{}", "", "", False, now, now,
                        accounts[user.id], "standard",
                    )
                )  # fmt: skip
    start, end = today.replace(day=1), (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    Budget.objects.bulk_create(
        Budget(user=user, category=category, amount=Decimal("500.00"), start_date=start, end_date=end)
        for user in users
        for category in CATEGORY_NAMES[:6]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_transaction")


LUA = """
local tokens = {%(tokens)s}
local paths = {%(paths)s}
local n = 0
function init(args)
  math.randomseed(%(seed)d)
end
function request()
  n = n + 1
  local path = paths[math.random(#paths)]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]})
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "status": %%d, ' ..
    '"timeout": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def lua_script(tokens: list[str], paths: list[str], seed: int) -> str:
    quoted = lambda items: ", ".join(json.dumps(item) for item in items)  # noqa: E731 - JSON strings are Lua strings here
    return LUA % {"tokens": quoted(tokens), "paths": quoted(paths), "seed": seed}


def wrk(url: str, script: str, *, clients: int, seconds: float, threads: int) -> dict:
    """One wrk run; its figures, and its own CPU time as a share of one core."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = [
            shutil.which("wrk"), "-t", str(threads), "-c", str(clients), "-d", f"{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", lua.name, url,
        ]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output = process.stdout.read()
    line = next((line for line in output.splitlines() if line.startswith('{"requests"')), None)
    if line is None:
        raise RuntimeError("wrk printed no result:\n" + output)
    raw = json.loads(line)
    seconds_run = raw["duration_us"] / 1e6
    transport = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds_run, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 1),
        "p95_ms": round(raw["p95_us"] / 1000, 1),
        "p99_ms": round(raw["p99_us"] / 1000, 1),
        "max_ms": round(raw["max_us"] / 1000, 1),
        "errors": transport + raw["status"],
        "http_errors": raw["status"],
        "transport_errors": transport,
        "loadgen_cores": round((usage.ru_utime + usage.ru_stime) / seconds_run, 2),
    }


def preflight(server, paths: list[str], token: str) -> None:
    """Each path answers 200 once before any load: a run of errors is a broken bench, not a figure."""
    for path in sorted(set(paths)):
        request = urllib.request.Request(server.url + path, headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200, (server.kind, path, response.status)
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{server.kind} {path}: HTTP {error.code} {error.read()[:300]!r}") from None


def measure(servers: dict, paths: list[str], tokens: list[str], args, seconds: float, seed: int) -> dict:
    script = lua_script(tokens, paths, seed)
    results = {}
    for kind, server in servers.items():
        if args.warmup:
            wrk(server.url, script, clients=args.clients, seconds=args.warmup, threads=args.wrk_threads)
        results[kind] = wrk(server.url, script, clients=args.clients, seconds=seconds, threads=args.wrk_threads)
    return results


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def ratio(a, b):
    return round(a / b, 2) if b else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32, help="wrk connections")
    parser.add_argument("--seconds", type=float, default=30, help="the mix, per server")
    parser.add_argument("--endpoint-seconds", type=float, default=10, help="each endpoint alone, per server (0: skip)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of load before each measured run")
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--transactions", type=int, default=20000, help="seeded per user")
    parser.add_argument("--servers", default=",".join(KINDS), help="front (the Procfile's web line), daphne (x1)")
    parser.add_argument("--web-concurrency", type=int, help="granian processes for front (default: WEB_CONCURRENCY)")
    parser.add_argument("--web-threads", type=int, help="threads per granian process (default: WEB_THREADS)")
    parser.add_argument("--wrk-threads", type=int, default=1)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/http_load.py drives wrk: apt-get install wrk")
    kinds = [kind.strip() for kind in args.servers.split(",") if kind.strip()]
    front_env = {
        name: str(value)
        for name, value in (("WEB_CONCURRENCY", args.web_concurrency), ("WEB_THREADS", args.web_threads))
        if value
    }
    rng = random.Random(11)
    tag = uuid.uuid4().hex[:8]
    users = [
        User.objects.create_user(email=f"bench-load-{tag}-{i}@example.com", password=None) for i in range(args.users)
    ]
    user_ids = [u.id for u in users]
    servers = {}
    stops = {}
    try:
        seed(users, transactions=args.transactions, rng=rng)
        tokens = [session_start(user=user).access for user in users]
        for kind in kinds:
            servers[kind] = Server(kind, extra_env=front_env if kind == "front" else None)
        for server in servers.values():
            preflight(server, [path for _, _, path in mix()], tokens[0])
        load_before = loadavg()
        weighted = [path for weight, _, path in mix() for _ in range(weight)]
        runs = {"mix": measure(servers, weighted, tokens, args, args.seconds, seed=1)}
        if args.endpoint_seconds:
            for _, name, path in mix():
                runs[name] = measure(servers, [path], tokens, args, args.endpoint_seconds, seed=2)
        load_after = loadavg()
    finally:
        for kind, server in servers.items():
            stops[kind] = server.stop()
        with connection.cursor() as cursor:  # a raw DELETE: the ORM's cascade loads every row first (~10 min)
            cursor.execute("DELETE FROM ledger_transaction WHERE user_id = ANY(%s)", [user_ids])
        User.objects.filter(id__in=user_ids).delete()

    by_server = {kind: {name: figures[kind] for name, figures in runs.items()} for kind in kinds}
    result = {
        "bench": "http_load",
        "clients": args.clients,
        "users": args.users,
        "transactions_per_user": args.transactions,
        "merchants": Merchant.objects.count(),
        "mix_weights": {name: weight for weight, name, _ in mix()},
        "seconds": {"mix": args.seconds, "endpoint": args.endpoint_seconds, "warmup": args.warmup},
        "loadgen": f"wrk, {args.wrk_threads} thread(s), {args.clients} connections",
        "machine": {"cores": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after},
        "front": {
            "granian": {
                "processes": int(front_env.get("WEB_CONCURRENCY") or os.environ.get("WEB_CONCURRENCY") or 2),
                "threads": int(front_env.get("WEB_THREADS") or os.environ.get("WEB_THREADS") or 4),
            }
        },
        "servers": {kind: {**by_server[kind], **stops[kind]} for kind in kinds},
    }
    if {"front", "daphne"} <= set(kinds):
        result["ratio_front_to_daphne"] = {
            name: ratio(figures["front"]["rps"], figures["daphne"]["rps"]) for name, figures in runs.items()
        }
        front = by_server["front"]
        checks = {
            "mix_ratio": result["ratio_front_to_daphne"]["mix"] >= TARGETS["mix_ratio"],
            "mix_p95_ms": front["mix"]["p95_ms"] <= TARGETS["mix_p95_ms"],
            "mix_errors": front["mix"]["errors"] == 0,
        }
        if "categories" in front:
            checks["categories_rps"] = front["categories"]["rps"] >= TARGETS["categories_rps"]
            checks["list_rps"] = front["list"]["rps"] >= TARGETS["list_rps"]
        result["targets"] = TARGETS
        result["pass"] = checks
    print(json.dumps(result))


if __name__ == "__main__":
    main()
