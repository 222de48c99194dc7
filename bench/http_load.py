"""HTTP load benchmark: C concurrent clients against one daphne process (the
Procfile's command line), each signed in as its own user with seeded data,
looping over a realistic mix of API calls for a fixed time. Prints one JSON
line: overall and per-endpoint p50/p95/p99, errors and throughput. Target
(DESIGN.md): 32 concurrent clients, p95 <= 500 ms, zero errors.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/http_load.py --clients 32 --seconds 30

Users and their rows are created here and deleted afterwards (tagged e-mails).
"""

import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from budgets.models import Budget  # noqa: E402
from ledger.books.guards import account_default  # noqa: E402
from ledger.models import PortfolioHolding, Transaction  # noqa: E402
from merchants.categories import CATEGORY_NAMES  # noqa: E402
from realtime.models import Notification  # noqa: E402

PASSWORD = "bench-load-password-42"
MERCHANTS = ["Starbucks", "Whole Foods Market", "Shell", "Amazon", "Netflix", "Uber", "Corner Cafe", "Lidl"]
COLUMNS = (
    "id, user_id, amount, currency, date, merchant_raw, merchant_normalized, category, source, notes, external_id, "
    "confidence, blockchain_hash, ipfs_cid, is_deleted, created_at, updated_at, account_id"
)


def pct(values, p):
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))], 2) if ordered else None


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
                        accounts[user.id],
                    )
                )  # fmt: skip
    start, end = today.replace(day=1), (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    Budget.objects.bulk_create(
        Budget(user=user, category=category, amount=Decimal("500.00"), start_date=start, end_date=end)
        for user in users
        for category in CATEGORY_NAMES[:6]
    )
    PortfolioHolding.objects.bulk_create(
        PortfolioHolding(
            user=user, asset_type=kind, identifier=ident, units=Decimal("3.5"), cost_basis=Decimal("1000.00")
        )
        for user in users
        for kind, ident in (("stock", "AAPL"), ("etf", "VWRL.L"), ("crypto", "BTC"))
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE ledger_transaction")


# Production mode unless --debug: DEBUG's query log alone costs several ms a request.
PRODUCTION_ENV = {
    "DEBUG": "False",
    "SECRET_KEY": "bench-http-load-not-a-real-secret-0123456789abcdefghijklmnopqrstuvwxyz",
    "SECURE_SSL_REDIRECT": "False",
}


def start_daphne(port: int, extra_env: dict, processes: int) -> tuple[subprocess.Popen, str]:
    """One daphne (the Procfile's command line), or ``processes`` of them on
    one socket through config/serve.py."""
    log = tempfile.NamedTemporaryFile("w+", suffix=".daphne.log", delete=False)
    daphne = str(Path(sys.executable).with_name("daphne"))
    if processes > 1:
        command = [sys.executable, "-m", "config.serve"]
    else:
        command = [daphne, "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            "WEB_HOST": "127.0.0.1",
            "WEB_PORT": str(port),
            "WEB_CONCURRENCY": str(processes),
            **extra_env,
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # readiness poll, not a synchronisation sleep
        if process.poll() is not None:
            raise RuntimeError("daphne exited: " + Path(log.name).read_text())
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1):
                return process, log.name
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("daphne did not start")


class Client(threading.Thread):
    """One signed-in user on one keep-alive connection, looping over the mix."""

    def __init__(self, port, email, stop_at, warm_until, rng):
        super().__init__(daemon=True)
        self.port, self.email, self.stop_at, self.warm_until, self.rng = port, email, stop_at, warm_until, rng
        self.samples: list[tuple[str, float, int]] = []
        self.errors: list[str] = []
        self.login_retries = 0

    def request(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if getattr(self, "token", None):
            headers["Authorization"] = f"Bearer {self.token}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                payload = response.read()
                self.retry_after = response.getheader("Retry-After")
                return response.status, payload
            except (http.client.HTTPException, ConnectionError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise

    def mix(self):
        today = datetime.date.today()
        since = (today - datetime.timedelta(days=90)).isoformat()
        return [
            (30, "list", "GET", "/api/v1/transactions", None),
            (10, "list_filtered", "GET", f"/api/v1/transactions?category=Groceries&since={since}", None),
            (5, "search_q", "GET", "/api/v1/transactions?q=starbucks", None),
            (15, "create", "POST", "/api/v1/transactions", "create"),
            (10, "budgets", "GET", "/api/v1/budgets", None),
            (10, "budget_status", "GET", "/api/v1/budgets/status", None),
            (10, "merchant_search", "GET", "/api/v1/merchants/search?q=star", None),
            (5, "portfolio_summary", "GET", "/api/v1/portfolio/summary", None),
            (5, "notifications", "GET", "/api/v1/notifications", None),
        ]

    def run(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        for _ in range(30):
            status, payload = self.request("POST", "/api/v1/auth/login", {"email": self.email, "password": PASSWORD})
            if status != 429:
                break
            # 32 logins from one address at once: the throttle asks the surplus to come back (Retry-After: 1).
            self.login_retries += 1
            time.sleep(float(self.retry_after or 1))
        if status != 200:
            self.errors.append(f"login {status}")
            return
        self.token = json.loads(payload)["access"]
        mix = self.mix()
        weights = [w for w, *_ in mix]
        while time.monotonic() < self.stop_at:
            _, name, method, path, body = self.rng.choices(mix, weights)[0]
            if body == "create":
                body = {
                    "amount": f"{self.rng.randint(100, 9000) / 100:.2f}",
                    "date": datetime.date.today().isoformat(),
                    "merchant_raw": f"{self.rng.choice(MERCHANTS)} {uuid.uuid4().hex[:6]}",
                }
            started = time.monotonic()
            try:
                status, _ = self.request(method, path, body)
            except Exception as exc:  # a transport error is an error, not a crash of the bench
                status = 0
                self.errors.append(f"{name}: {exc!r}")
            elapsed = (time.monotonic() - started) * 1000
            if started >= self.warm_until:
                self.samples.append((name, elapsed, status))
        self.conn.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--warmup", type=float, default=5, help="seconds (logins happen here) before measuring")
    parser.add_argument("--transactions", type=int, default=2000, help="seeded per user")
    parser.add_argument("--port", type=int, default=8097)
    parser.add_argument("--debug", action="store_true", help="run daphne with DEBUG=True (development settings)")
    parser.add_argument("--processes", type=int, default=1, help="daphne processes on one socket (config/serve.py)")
    args = parser.parse_args()
    rng = random.Random(11)
    tag = uuid.uuid4().hex[:8]
    users = [
        User.objects.create_user(email=f"bench-load-{tag}-{i}@example.com", password=PASSWORD)
        for i in range(args.clients)
    ]
    user_ids = [u.id for u in users]
    process = log_name = None
    try:
        seed(users, transactions=args.transactions, rng=rng)
        process, log_name = start_daphne(args.port, {} if args.debug else PRODUCTION_ENV, args.processes)
        now = time.monotonic()
        warm_until = now + args.warmup
        stop_at = warm_until + args.seconds
        clients = [Client(args.port, user.email, stop_at, warm_until, random.Random(i)) for i, user in enumerate(users)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        samples = [s for c in clients for s in c.samples]
        failures = [s for s in samples if not 200 <= s[2] < 300]
        errors = [e for c in clients for e in c.errors] + [f"{name}: HTTP {status}" for name, _, status in failures]
        latencies = [ms for _, ms, _ in samples]
        by_endpoint = {}
        for name in sorted({s[0] for s in samples}):
            values = [ms for n, ms, _ in samples if n == name]
            by_endpoint[name] = {"n": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95)}
        result = {
            "bench": "http_load",
            "clients": args.clients,
            "debug": args.debug,
            "processes": args.processes,
            "seconds": args.seconds,
            "requests": len(samples),
            "rps": round(len(samples) / args.seconds, 1),
            "errors": len(errors),
            "login_retries_after_429": sum(c.login_retries for c in clients),
            "error_examples": sorted(set(errors))[:5],
            "latency_ms": {
                "p50": pct(latencies, 50),
                "p95": pct(latencies, 95),
                "p99": pct(latencies, 99),
                "mean": round(statistics.fmean(latencies), 2) if latencies else None,
            },
            "by_endpoint": by_endpoint,
            "target": {"p95_ms": 500, "errors": 0},
            "pass": bool(latencies) and pct(latencies, 95) <= 500 and not errors,
        }
        print(json.dumps(result))
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=15)
            Path(log_name).unlink(missing_ok=True)
        Notification.objects.filter(user_id__in=user_ids).delete()
        Transaction.objects.filter(user_id__in=user_ids).delete()
        User.objects.filter(id__in=user_ids).delete()


if __name__ == "__main__":
    main()
