"""Regular expressions of rules, run by PostgreSQL (see conditions.py for
why not Python's `re`): `~*` (case-insensitive ARE) under a statement
timeout, inside a savepoint so a timeout never breaks the caller's
transaction."""

import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.db import transaction as db_transaction

logger = logging.getLogger(__name__)


def _timeout_ms() -> int:
    return int(getattr(settings, "RULES_REGEX_TIMEOUT_MS", 2000))


def _bounded(cursor, sql, params):
    """Run one statement under the regex time limit. SET LOCAL outlives a
    released savepoint, so the caller's own limit is put back afterwards
    (a rolled-back savepoint restores it by itself)."""
    cursor.execute("SHOW statement_timeout")
    previous = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [str(_timeout_ms())])
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
    return rows


def regex_validate(pattern: str) -> str | None:
    """None when PostgreSQL compiles the pattern, else its complaint."""
    try:
        with db_transaction.atomic(), connection.cursor() as cursor:
            _bounded(cursor, "SELECT '' ~* %s", [pattern])
    except DatabaseError as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid regular expression"
        return f"Not a valid regular expression: {message}"
    return None


def regex_prepare(leaves, values: dict) -> None:
    """Fill each leaf's `matched` with the values of its field, among these
    (`values`: {field: set of values}), that its pattern matches: one query per pattern over the distinct
    values, whatever the number of rows. Values already checked are skipped,
    so a long import asks once per new value. A pattern that exceeds the time
    limit matches nothing (logged), rather than failing the import."""
    for leaf in leaves:
        todo = list(set(values.get(leaf.field, ())) - leaf.checked)
        if not todo:
            continue
        try:
            with db_transaction.atomic(), connection.cursor() as cursor:
                rows = _bounded(cursor, "SELECT v FROM unnest(%s::text[]) AS v WHERE v ~* %s", [todo, leaf.pattern])
                leaf.matched.update(row[0] for row in rows)
        except DatabaseError:
            logger.warning("rule regex timed out or failed", extra={"pattern": leaf.pattern[:200]})
        leaf.checked.update(todo)
