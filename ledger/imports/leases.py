"""Who is running an import right now. A task takes a session-level
PostgreSQL advisory lock on the import before writing: PostgreSQL holds it
exactly as long as that worker's database session lives, so a worker
killed with SIGKILL (or its machine lost) releases it the moment its
connection drops, with no heartbeat to tune. The redelivered task then gets
the lock and takes the job over; while the first worker lives, a second
delivery finds the lock held and leaves the job to it."""

from contextlib import contextmanager

from django.db import connection


@contextmanager
def import_lease(key: str):
    """Yield True when this session now holds the lease on `key` (released
    on exit), False when another live session holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))", [key])
        held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])


def import_lease_free(key: str) -> bool:
    """No live session holds the lease on `key` (its worker finished or died)."""
    with import_lease(key) as held:
        return held
