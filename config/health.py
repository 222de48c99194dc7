"""Liveness and readiness probes. /health/ does no I/O; /ready/ asks the
database and Redis (either failing is a 503) and reports the Celery workers
that answer a ping without letting them decide readiness."""

import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.redis import get_redis


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # a probe reports any failure, it never raises
        detail = f"{type(exc).__name__}: {exc}"
        ok = False
    return {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 2), "detail": detail}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _redis():
    get_redis().ping()
    return "ok"


def _celery_workers():
    from config.celery import app

    replies = app.control.ping(timeout=0.5) or []
    return sorted(name for reply in replies for name in reply)


@never_cache
@require_GET
def health(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    checks = {"database": _timed(_database), "redis": _timed(_redis)}
    workers = _timed(_celery_workers)
    ready_now = all(check["ok"] for check in checks.values())
    body = {
        "status": "ready" if ready_now else "unavailable",
        "checks": checks,
        "celery": {
            "workers": len(workers["detail"]) if workers["ok"] else 0,
            "names": workers["detail"] if workers["ok"] else [],
            "latency_ms": workers["latency_ms"],
            "error": None if workers["ok"] else workers["detail"],
        },
    }
    return JsonResponse(body, status=200 if ready_now else 503)
