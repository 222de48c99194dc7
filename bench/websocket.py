"""WebSocket delivery benchmark: one daphne process, N authenticated sockets
opened from a separate client process (the `websockets` library), E events
sent with realtime.services.notify; reports connect time and delivery latency
from each notify's commit to each socket (p50/p95/p99), plus the raw Redis
PUBLISH -> SUBSCRIBE round trip measured in the same run. Prints one JSON line.

    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/websocket.py --sockets 1000 --events 20 [--layer core]
"""

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer", "core": "channels_redis.core.RedisChannelLayer"}


def pct(values, p):
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))], 2)


def summary(values):
    return {"p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99), "max": pct(values, 100)}


# Client process: N sockets; prints READY, then one JSON line of receipt times.
async def client_main(url, sockets, events, timeout):
    import websockets

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    connect_ms, errors, received = [], 0, []

    async def open_one():
        nonlocal errors
        start = time.perf_counter()
        try:
            ws = await websockets.connect(url, open_timeout=60, max_queue=None, ping_interval=None)
            hello = json.loads(await ws.recv())
            assert hello["type"] == "connected"
        except Exception:
            errors += 1
            return None
        connect_ms.append((time.perf_counter() - start) * 1000)
        return ws

    conns = []
    for i in range(0, sockets, 100):  # batches, like clients arriving
        conns += await asyncio.gather(*(open_one() for _ in range(min(100, sockets - i))))
    conns = [c for c in conns if c is not None]
    print("READY", flush=True)

    async def reader(ws):
        got = 0
        try:
            while got < events:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                if message["id"] is not None:
                    received.append((message["id"], time.time()))
                    got += 1
        except Exception:
            pass
        return got

    counts = await asyncio.gather(*(reader(ws) for ws in conns))
    await asyncio.gather(*(ws.close() for ws in conns), return_exceptions=True)
    print(
        json.dumps(
            {
                "connect_ms": connect_ms,
                "errors": errors,
                "open": len(conns),
                "received": received,
                "complete": sum(1 for c in counts if c == events),
            }
        ),
        flush=True,
    )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between events")
    parser.add_argument("--layer", choices=sorted(LAYERS), default="pubsub")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client_main(args.client, args.sockets, args.events, timeout=60))
        return

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["CHANNEL_LAYER_BACKEND"] = LAYERS[args.layer]
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.db import transaction

    from accounts.models import User
    from accounts.services import session_start
    from realtime.services import notify

    user = User.objects.create_user(email=f"bench-{time.time_ns()}@example.com", password=None)
    token = session_start(user=user).access
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "WARNING", "DATABASE_POOL_MIN": "0"}
    daphne = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("daphne")),
            "-v",
            "0",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "config.asgi:application",
        ],
        cwd=ROOT,
        env=env,
    )
    client = None
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health/", timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        started = time.perf_counter()
        client = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--client",
                f"ws://127.0.0.1:{port}/ws/?token={token}",
                "--sockets",
                str(args.sockets),
                "--events",
                str(args.events),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert client.stdout.readline().strip() == "READY"
        connect_all_s = time.perf_counter() - started
        committed, stamps = {}, []
        for n in range(args.events):
            with transaction.atomic():
                # Registered before notify's publish, so it runs first, right after COMMIT.
                transaction.on_commit(lambda: stamps.append(time.time()))
                event = notify(user.pk, "budget_alert", {"n": n})
            committed[event.id] = stamps[-1]
            time.sleep(args.interval)
        result = json.loads(client.stdout.readline())
        client.wait(timeout=60)
        latencies = [(at - committed[i]) * 1000 for i, at in result["received"] if i in committed]
        expected = result["open"] * args.events
        raw = redis_roundtrip(settings.REDIS_URL, 200)
        print(
            json.dumps(
                {
                    "bench": "websocket",
                    "layer": args.layer,
                    "sockets": args.sockets,
                    "open": result["open"],
                    "connect_errors": result["errors"],
                    "connect_all_s": round(connect_all_s, 2),
                    "connect_ms": summary(result["connect_ms"]),
                    "events": args.events,
                    "deliveries": len(latencies),
                    "lost": expected - len(latencies),
                    "delivery_ms": summary(latencies),
                    "redis_pubsub_rtt_ms": summary(raw),
                }
            )
        )
    finally:
        if client is not None and client.poll() is None:
            client.kill()
        daphne.terminate()
        daphne.wait(timeout=10)
        user.delete()


if __name__ == "__main__":
    main()
