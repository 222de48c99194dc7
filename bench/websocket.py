"""WebSocket delivery benchmark: N authenticated sockets opened from a separate
client process (the `websockets` library) through the production server line of
`make run` (``--server front``: nginx routing /ws/ to daphne, bench/servers.py)
or straight to one daphne process (``--server daphne``).

What it measures (one JSON line):
- `--users U` users hold the N sockets round-robin (default U = N: one socket
  per user, the realistic shape; `--users 1` is the worst-case fan-out where
  every socket belongs to one user and each event reaches all N sockets).
- E events (`--events`) are sent with realtime.services.notify at `--rate`
  events/s, event i to user i % U, each inside its own transaction; every
  socket of that user must receive it.
- delivery latency = client receipt time - the notify transaction's COMMIT
  time (p50/p95/p99/max over every (event, socket) delivery), plus connect
  time and the raw Redis PUBLISH -> SUBSCRIBE round trip in the same run.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/websocket.py --sockets 1000 [--users 1] [--events 200]
        [--server front|daphne]
"""

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"pubsub": "realtime.layers.ReconnectingPubSubChannelLayer", "core": "channels_redis.core.RedisChannelLayer"}


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 2)


def summary(values):
    return {"p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99), "max": pct(values, 100)}


def expected_for(socket_index, users, events):
    """Events addressed to the user behind socket k (event i goes to user i % users)."""
    return len(range(socket_index % users, events, users))


# Client process: reads socket URLs (one per user) from stdin, opens N sockets
# round-robin over them; prints READY, then one JSON line of receipt times.
async def client_main(sockets, users, events, timeout):
    import websockets

    urls = json.loads(sys.stdin.readline())
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    connect_ms, errors, received = [], 0, []

    async def open_one(k):
        nonlocal errors
        start = time.perf_counter()
        try:
            ws = await websockets.connect(urls[k % users], open_timeout=60, max_queue=None, ping_interval=None)
            hello = json.loads(await ws.recv())
            assert hello["type"] == "connected"
        except Exception:
            errors += 1
            return None
        connect_ms.append((time.perf_counter() - start) * 1000)
        return k, ws

    conns = []
    for i in range(0, sockets, 100):  # batches, like clients arriving
        conns += await asyncio.gather(*(open_one(k) for k in range(i, min(i + 100, sockets))))
    conns = [c for c in conns if c is not None]
    print("READY", flush=True)

    async def reader(k, ws):
        got, want = 0, expected_for(k, users, events)
        try:
            while got < want:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                if message["id"] is not None:
                    received.append((message["id"], time.time()))
                    got += 1
        except Exception:
            pass
        return got == want

    complete = await asyncio.gather(*(reader(k, ws) for k, ws in conns))
    await asyncio.gather(*(ws.close() for _, ws in conns), return_exceptions=True)
    print(
        json.dumps(
            {
                "connect_ms": connect_ms,
                "errors": errors,
                "open": len(conns),
                "expected": sum(expected_for(k, users, events) for k, _ in conns),
                "received": received,
                "complete": sum(complete),
            }
        ),
        flush=True,
    )


def redis_roundtrip(redis_url, count):
    import redis

    client = redis.Redis.from_url(redis_url)
    pubsub = client.pubsub()
    pubsub.subscribe("tally:bench:rt")
    pubsub.get_message(timeout=1)  # subscribe confirmation
    latencies = []
    for _ in range(count):
        sent = time.perf_counter()
        client.publish("tally:bench:rt", b"x")
        while pubsub.get_message(ignore_subscribe_messages=True, timeout=1) is None:
            pass
        latencies.append((time.perf_counter() - sent) * 1000)
    pubsub.close()
    return latencies


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--users", type=int, help="users holding the sockets round-robin (default: one per socket)")
    parser.add_argument("--events", type=int, default=200, help="notify calls, event i to user i %% users")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second")
    parser.add_argument("--layer", choices=sorted(LAYERS), default="pubsub")
    parser.add_argument("--server", choices=("front", "daphne"), default="front")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    users = max(1, min(args.users or args.sockets, args.sockets))
    if args.client:
        asyncio.run(client_main(args.sockets, users, args.events, timeout=60))
        return

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CHANNEL_LAYER_BACKEND"] = LAYERS[args.layer]
    sys.path.insert(0, str(ROOT))
    from bench.servers import PRODUCTION_ENV, Server

    os.environ.update(PRODUCTION_ENV)  # the tokens minted here must verify in the server: one SECRET_KEY
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from accounts.models import User
    from accounts.services import session_start
    from realtime.services import notify

    run = time.time_ns()
    people = [User.objects.create_user(email=f"bench-{run}-{i}@example.com", password=None) for i in range(users)]
    tokens = [session_start(user=person).access for person in people]
    server = Server(args.server, extra_env={"DATABASE_POOL_MIN": "0"})
    client = None
    try:
        started = time.perf_counter()
        client = subprocess.Popen(
            [sys.executable, __file__, "--client", "--sockets", str(args.sockets)]
            + ["--users", str(users), "--events", str(args.events)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        client.stdin.write(json.dumps([f"{server.ws_url}/ws/?token={t}" for t in tokens]) + "\n")
        client.stdin.flush()
        assert client.stdout.readline().strip() == "READY"
        connect_all_s = time.perf_counter() - started
        committed, stamps, notify_ms = {}, [], []
        interval = 1 / args.rate
        next_at = time.perf_counter()
        for n in range(args.events):
            begin = time.perf_counter()
            with transaction.atomic():
                # Registered before notify's publish, so it runs first, right after COMMIT.
                transaction.on_commit(lambda: stamps.append(time.time()))
                event = notify(people[n % users].pk, "budget_alert", {"n": n})
            notify_ms.append((time.perf_counter() - begin) * 1000)
            committed[event.id] = stamps[-1]
            next_at += interval
            time.sleep(max(0.0, next_at - time.perf_counter()))
        result = json.loads(client.stdout.readline())
        client.wait(timeout=60)
        latencies = [(at - committed[i]) * 1000 for i, at in result["received"] if i in committed]
        raw = redis_roundtrip(settings.REDIS_URL, 200)
        print(
            json.dumps(
                {
                    "bench": "websocket",
                    "server": args.server,
                    "layer": args.layer,
                    "sockets": args.sockets,
                    "users": users,
                    "open": result["open"],
                    "connect_errors": result["errors"],
                    "connect_all_s": round(connect_all_s, 2),
                    "connect_ms": summary(result["connect_ms"]),
                    "events": args.events,
                    "rate_per_s": args.rate,
                    "notify_call_ms": summary(notify_ms),
                    "deliveries": len(latencies),
                    "lost": result["expected"] - len(latencies),
                    "delivery_ms": summary(latencies),
                    "redis_pubsub_rtt_ms": summary(raw),
                }
            )
        )
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        server.stop()
        User.objects.filter(pk__in=[person.pk for person in people]).delete()


if __name__ == "__main__":
    main()
