"""Pre-flight for `make run` / `make test`: checks that PostgreSQL and Redis
answer and creates the database if it is missing. Standard library plus
psycopg and redis only, so it runs before Django is configured.

    python -m config.bootstrap services [--wait SECONDS]
    python -m config.bootstrap database
"""

import argparse
import os
import sys
import time
from urllib.parse import unquote, urlparse

import psycopg
import redis
from psycopg import sql

DEFAULT_DATABASE_URL = "postgres://postgres@localhost:5432/tally"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"


def _read_dotenv():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".env")
    if not os.path.exists(path):
        return
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


def _pg_params(url: str, dbname: str | None = None) -> dict:
    parts = urlparse(url)
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "user": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or "") or None,
        "dbname": dbname or parts.path.lstrip("/") or "tally",
        "connect_timeout": 3,
    }


def check_postgres(url: str) -> str | None:
    try:
        with psycopg.connect(**_pg_params(url, dbname="postgres")) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return str(exc).strip()


def check_redis(url: str) -> str | None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        return None
    except redis.RedisError as exc:
        return str(exc)


def services(wait: float) -> int:
    database_url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    deadline = time.monotonic() + wait
    while True:
        problems = {"PostgreSQL": check_postgres(database_url), "Redis": check_redis(redis_url)}
        failing = {name: error for name, error in problems.items() if error}
        if not failing or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    for name, error in failing.items():
        print(f"{name} does not answer: {error}", file=sys.stderr)
    if failing:
        print(
            "Install and start them, e.g. on Debian: apt-get install postgresql redis-server, "
            "or point DATABASE_URL / REDIS_URL at running servers.",
            file=sys.stderr,
        )
        return 1
    return 0


def database() -> int:
    url = os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)
    name = _pg_params(url)["dbname"]
    with psycopg.connect(**_pg_params(url, dbname="postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")
    return 0


def main(argv=None) -> int:
    _read_dotenv()
    parser = argparse.ArgumentParser(prog="python -m config.bootstrap")
    sub = parser.add_subparsers(dest="command", required=True)
    services_parser = sub.add_parser("services")
    services_parser.add_argument("--wait", type=float, default=0)
    sub.add_parser("database")
    args = parser.parse_args(argv)
    if args.command == "services":
        return services(args.wait)
    return database()


if __name__ == "__main__":
    sys.exit(main())
