import pytest
from django.db import connection

from config.sql import report_rows, with_planner_settings


def _setting(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_report_settings_hold_for_the_statement_and_end_with_it():
    before = (_setting("work_mem"), _setting("jit"))

    names, rows = report_rows(
        "SELECT current_setting('work_mem') AS work_mem, current_setting('jit') AS jit, %(n)s::int AS n", {"n": 3}
    )

    assert (names, rows) == (["work_mem", "jit", "n"], [("64MB", "off", 3)])
    assert (_setting("work_mem"), _setting("jit")) == before


@pytest.mark.django_db
def test_planner_settings_hold_for_the_statement_only_inside_a_transaction():
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the caller's own, kept
        cursor.execute(
            with_planner_settings(
                "CREATE TEMP TABLE seen AS SELECT current_setting('enable_nestloop') AS nestloop, "
                "current_setting('enable_seqscan') AS seqscan, %s::int AS n",
                {"enable_nestloop": "off", "enable_seqscan": "on"},
            ),
            [3],
        )
        cursor.execute("SELECT nestloop, seqscan, n FROM seen")
        assert cursor.fetchall() == [("off", "on", 3)]
    assert (_setting("enable_nestloop"), _setting("enable_seqscan")) == ("on", "off")
