"""Webhook delivery benchmark: E events to N endpoints of one user, all on a
local threaded HTTP receiver (one path per endpoint), sent by a real
`celery worker` subprocess on the queue webhooks use (`default`).

- Each event is realtime.services.notify_transaction_update inside its own
  transaction (the real path: Notification, fan-out to one delivery per
  endpoint subscribed to transaction.created, queued after COMMIT); its COMMIT
  time is recorded. `--rate` paces the events (0: as fast as possible).
- The receiver verifies every request's Standard Webhooks signature with the
  endpoint's secret and records the first receipt of each (webhook-id,
  endpoint); a repeat is a duplicate (receivers dedupe on webhook-id).
- latency = receipt - the event's COMMIT (p50/p95/p99/max over every unique
  delivery); lost = expected - delivered once `--timeout` s have passed after
  the last event with deliveries still missing. Target: p95 <= 1 s, none lost.

The broker must be a Redis DB of your own (REDIS_URL): a worker of another
database on the same queue would take the tasks and find no rows.

    DATABASE_URL=... REDIS_URL=redis://localhost:6379/9 .venv/bin/python bench/webhooks.py \\
        --events 1000 --endpoints 10 --concurrency 2 --rate 10

Measured 2026-12-02 on the shared 2-core dev machine (other helpers' test
runs on it), worker concurrency 2, --events 1000 --endpoints 10 --rate 10
(100 deliveries/s offered), back to back (load average 4.4 -> 6.1):
  one task and one HTTP request per delivery (before batching):
    {"expected": 10000, "delivered_unique": 10000, "duplicates": 0, "lost": 0, "bad_signatures": 0,
     "latency_ms": {"p50": 53158.85, "p95": 77590.71, "p99": 79081.59, "max": 79424.19}, "deliveries_per_s": 55.8}
  one task per event, its deliveries sent concurrently over kept-alive
  connections, one transaction to claim and one to record:
    {"expected": 10000, "delivered_unique": 10000, "duplicates": 0, "lost": 0, "bad_signatures": 0,
     "latency_ms": {"p50": 27.58, "p95": 55.13, "p99": 184.14, "max": 1113.44}, "deliveries_per_s": 100.1}
  --rate 0 (1000 events committed in 16.9 s, about 590 deliveries/s offered): the
  worker's ceiling here, 181.8 deliveries/s; all 10000 arrive, p95 36 s of queueing.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 2)


def summary(values):
    return {"p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99), "max": pct(values, 100)}


class Receiver:
    """127.0.0.1 receiver: /hooks/<k> verifies with secret k, keeps the first
    receipt per (webhook-id, k) and counts repeats and bad signatures."""

    def __init__(self):
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        self.secrets: dict[str, str] = {}  # path -> secret
        self.first: dict[tuple[str, str], tuple[float, str]] = {}  # (webhook-id, path) -> (receipt, event_id)
        self.duplicates = self.bad_signatures = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                received = time.time()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(receiver.secrets[self.path]).verify(body, headers)
                except (KeyError, WebhookVerificationError):
                    payload = None
                with receiver.lock:
                    key = (headers.get("webhook-id", ""), self.path)
                    if payload is None:
                        receiver.bad_signatures += 1
                    elif key in receiver.first:
                        receiver.duplicates += 1
                    else:
                        receiver.first[key] = (received, str(payload["event_id"]))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self):
        with self.lock:
            return len(self.first)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def start_worker(concurrency, log):
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q", "default", "-c", str(concurrency),
         "-n", f"bench-webhooks-{os.getpid()}@%h", "--without-mingle", "--without-gossip", "-l", "WARNING"],
        cwd=ROOT, env={**os.environ, "DATABASE_POOL_MIN": "0", "LOG_LEVEL": "WARNING"}, stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def wait_ready(app, worker, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited:\n{Path(log.name).read_text()[-3000:]}")
        if any(name.startswith("bench-webhooks-") for reply in app.control.ping(timeout=0.5) for name in reply):
            return
    raise SystemExit(f"the worker did not answer a ping within {timeout} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--endpoints", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (make run starts 2)")
    parser.add_argument("--rate", type=float, default=10.0, help="events per second; 0 = as fast as possible")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait after the last event")
    args = parser.parse_args()

    redis_url = os.environ.get("REDIS_URL", "")
    if not redis_url or redis_url.rstrip("/").rsplit("/", 1)[-1] in ("", "0", "1", "2"):
        parser.error("set REDIS_URL to a Redis DB of your own (not 0/1/2): the worker consumes its default queue")
    os.environ["CELERY_BROKER_URL"] = redis_url
    # Loopback http receivers, as the webhook tests allow them; the worker inherits both.
    os.environ["WEBHOOKS_ALLOW_PRIVATE_URLS"] = "true"
    os.environ["WEBHOOKS_REQUIRE_HTTPS"] = "false"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import transaction

    from accounts.models import User
    from config.celery import app
    from realtime.models import Notification, WebhookDelivery
    from realtime.services import notify_transaction_update
    from realtime.webhooks.services import endpoint_create

    user = User.objects.create_user(email=f"bench-webhooks-{uuid.uuid4().hex[:8]}@example.com", password=None)
    receiver = Receiver()
    log = tempfile.NamedTemporaryFile("w+", suffix=".webhooks-worker.log", delete=False)
    worker = None
    try:
        for k in range(args.endpoints):
            path = f"/hooks/{k}"
            endpoint = endpoint_create(user=user, url=receiver.base + path, events=["transaction.created"])
            receiver.secrets[path] = endpoint.secret
        worker = start_worker(args.concurrency, log)
        wait_ready(app, worker, log)

        committed, stamps = {}, []
        interval = 1 / args.rate if args.rate > 0 else 0.0
        started = next_at = time.perf_counter()
        for _ in range(args.events):
            with transaction.atomic():
                # Registered before the fan-out's on_commit, so it runs first, right after COMMIT.
                transaction.on_commit(lambda: stamps.append(time.time()))
                event = notify_transaction_update(
                    user_id=user.id, action="created", transaction={"id": str(uuid.uuid4()), "amount": "12.34"}
                )
            committed[str(event.id)] = stamps[-1]
            if interval:
                next_at += interval
                time.sleep(max(0.0, next_at - time.perf_counter()))
        emit_s = time.perf_counter() - started

        expected = args.events * args.endpoints
        deadline = time.monotonic() + args.timeout
        while receiver.count() < expected and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.05)
        time.sleep(0.5)  # a late duplicate still counts
        with receiver.lock:
            first = dict(receiver.first)
        latencies = [(at - committed[event_id]) * 1000 for at, event_id in first.values() if event_id in committed]
        receipts = [at for at, _ in first.values()]
        span = (max(receipts) - min(committed.values())) if receipts else 0
        succeeded = WebhookDelivery.objects.filter(endpoint__user=user, status="succeeded").count()
        print(
            json.dumps(
                {
                    "bench": "webhooks",
                    "events": args.events,
                    "endpoints": args.endpoints,
                    "concurrency": args.concurrency,
                    "rate_per_s": args.rate,
                    "emit_s": round(emit_s, 2),
                    "expected": expected,
                    "delivered_unique": len(first),
                    "duplicates": receiver.duplicates,
                    "lost": expected - len(first),
                    "bad_signatures": receiver.bad_signatures,
                    "db_succeeded": succeeded,
                    "latency_ms": summary(latencies),
                    "deliveries_per_s": round(len(first) / span, 1) if span else None,
                    "target_p95_ms": 1000,
                }
            )
        )
    finally:
        if worker is not None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=10)
        receiver.close()
        Path(log.name).unlink(missing_ok=True)
        Notification.objects.filter(user=user).delete()
        User.objects.filter(pk=user.pk).delete()


if __name__ == "__main__":
    main()
