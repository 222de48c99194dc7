import pytest
from django.db import connection

from config.sql import report_rows


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
