"""Read-only report statements in one round trip.

A report's aggregate keeps its groups in memory: a year of weeks by merchant
is tens of thousands of groups, which the default work_mem (4 MB) sorts on
disk instead of hashing; and JIT compiling costs more than such a statement
runs. `report_rows` sends the settings and the statement as one query string:
PostgreSQL runs it as one implicit transaction, so SET LOCAL holds for the
statement and ends with it (inside a caller's transaction, with that
transaction). One round trip matters on a busy machine, where every wait for
the server costs milliseconds whatever the statement does."""

from django.db import connection

REPORT_SETTINGS = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off;\n"


def report_rows(sql: str, params: dict) -> tuple[list[str], list[tuple]]:
    """(column names, rows) of ``sql`` run with REPORT_SETTINGS."""
    with connection.cursor() as cursor:
        cursor.execute(REPORT_SETTINGS + sql, params)
        while cursor.description is None and cursor.nextset():
            pass  # past the SETs' (empty) results to the statement's
        return [c.name for c in cursor.description], cursor.fetchall()


def with_planner_settings(sql: str, settings: dict[str, str]) -> str:
    """``sql`` as one query string that gives it ``settings`` (planner
    settings such as enable_nestloop) and then puts back what they were, so
    they hold for that statement only, inside a caller's transaction or not
    (SET LOCAL would last until the caller's transaction ends). Each earlier
    value waits in a tally.saved_* setting of the transaction meanwhile."""
    save = ", ".join(
        f"set_config('tally.saved_{name}', current_setting('{name}'), true), set_config('{name}', '{value}', true)"
        for name, value in settings.items()
    )
    restore = ", ".join(f"set_config('{name}', current_setting('tally.saved_{name}'), true)" for name in settings)
    return f"SELECT {save};\n{sql};\nSELECT {restore}"


# COPY's text format: a cell is its text with backslashes, tabs and line ends escaped, NULL is \N.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_NULL = "\\N"


def copy_text(value) -> str:
    """One cell of COPY's text format (what a bulk write builds per row,
    instead of psycopg's per-value adapters)."""
    if value is None:
        return COPY_NULL
    return str(value).translate(_COPY_ESCAPES)
