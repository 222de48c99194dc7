"""The admin index shows staff the counts that matter, each linking to the
rows behind it, computed at most once a minute (cached)."""

import datetime
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.test import Client

from accounts.models import Session
from config.cache import cache_delete, cache_get
from ledger.models import Import, MerkleBatch, Transaction
from realtime.models import Notification
from tests.accounts.factories import UserFactory
from tests.ledger.factories import AccountFactory, TransactionFactory
from workers.models import DeadLetter
from workers.selectors import ADMIN_DASHBOARD_CACHE_KEY

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 23, 15, tzinfo=datetime.UTC)


@pytest.fixture
def staff_admin():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def _session(user, last_used):
    Session.objects.create(
        user=user,
        refresh_jti=uuid.uuid4().hex,
        last_used_at=last_used,
        expires_at=last_used + datetime.timedelta(days=30),
    )


def _import(user, status, updated):
    row = Import.objects.create(
        user=user, account=AccountFactory(user=user), sha256="0" * 64, format="csv", status=status, expires_at=NOW
    )
    Import.objects.filter(pk=row.pk).update(updated_at=updated)


@pytest.fixture
def activity():
    ada, bob, cleo = UserFactory(), UserFactory(), UserFactory()
    _session(ada, NOW - datetime.timedelta(days=1))
    _session(ada, NOW - datetime.timedelta(days=2))  # the same user twice: counted once
    _session(bob, NOW - datetime.timedelta(days=6))
    _session(cleo, NOW - datetime.timedelta(days=9))  # last week: not active
    with time_machine.travel(NOW - datetime.timedelta(hours=3), tick=False):
        for source in ("import", "import", "csv", "manual"):
            TransactionFactory(user=ada, source=source, amount=Decimal("5.00"))
    with time_machine.travel(NOW - datetime.timedelta(days=1), tick=False):
        TransactionFactory(user=ada, source=Transaction.Source.IMPORT)  # yesterday
    _import(ada, Import.Status.FAILED, NOW - datetime.timedelta(days=2))
    _import(ada, Import.Status.FAILED, NOW - datetime.timedelta(days=20))  # long ago
    _import(ada, Import.Status.COMMITTED, NOW - datetime.timedelta(days=1))
    DeadLetter.objects.create(task_name="ledger.commit_import")
    DeadLetter.objects.create(task_name="workers.weekly_summary", requeued_at=NOW)
    MerkleBatch.objects.create(batch_date=datetime.date(2026, 11, 21), root_hash="a" * 64, verification_ok=True)
    MerkleBatch.objects.create(batch_date=datetime.date(2026, 11, 22), root_hash="b" * 64, verification_ok=False)
    for hours, kind in [(1, "budget_alert"), (5, "budget_alert"), (30, "budget_alert"), (2, "anomaly_alert")]:
        Notification.objects.create(user=ada, type=kind, created_at=NOW - datetime.timedelta(hours=hours))
    Notification.objects.create(user=ada, type="transaction_update", created_at=NOW)  # not an alert


def _rows(response) -> dict:
    return {row["label"]: row for row in response.context["rows"]}


def test_staff_see_the_counts_with_links_that_open(staff_admin, activity):
    with time_machine.travel(NOW, tick=False):
        response = staff_admin.get("/admin/")

        assert response.status_code == 200
        rows = _rows(response)
        assert {label: row["value"] for label, row in rows.items()} == {
            "Users active this week": 2,
            "Transactions imported today": 3,
            "Imports failed (7 days)": 1,
            "Dead letters waiting": 1,
            "Last anchoring batch (2026-11-22)": "FAILED verification",
            "budget_alert (24 hours)": 2,
            "anomaly_alert (24 hours)": 1,
            "integrity_alert (24 hours)": 0,
        }
        assert b'id="tally-dashboard"' in response.content
        # Each link opens the admin list (or the batch) behind the figure, filtered the same way.
        failed = staff_admin.get(rows["Imports failed (7 days)"]["url"])
        assert failed.status_code == 200 and failed.context["cl"].result_count == 1
        imported = staff_admin.get(rows["Transactions imported today"]["url"])
        assert imported.status_code == 200 and imported.context["cl"].result_count == 3
        waiting = staff_admin.get(rows["Dead letters waiting"]["url"])
        assert waiting.status_code == 200 and waiting.context["cl"].result_count == 1
        active = staff_admin.get(rows["Users active this week"]["url"])
        assert active.status_code == 200 and active.context["cl"].result_count == 3  # sessions of the 2 users
        alerts = staff_admin.get(rows["budget_alert (24 hours)"]["url"])
        assert alerts.status_code == 200 and alerts.context["cl"].result_count == 2
        batch = staff_admin.get(rows["Last anchoring batch (2026-11-22)"]["url"])
        assert batch.status_code == 200 and batch.context["original"].batch_date == datetime.date(2026, 11, 22)


def test_the_counts_are_cached_for_a_minute(staff_admin, activity):
    with time_machine.travel(NOW, tick=False):
        staff_admin.get("/admin/")
        DeadLetter.objects.create(task_name="ledger.anchor_ledger")
        cached = _rows(staff_admin.get("/admin/"))["Dead letters waiting"]["value"]
    assert cached == 1

    cache_delete(ADMIN_DASHBOARD_CACHE_KEY)  # what the minute's expiry does
    with time_machine.travel(NOW, tick=False):
        assert _rows(staff_admin.get("/admin/"))["Dead letters waiting"]["value"] == 2


def test_an_empty_install_shows_zeros_and_no_batch(staff_admin):
    rows = _rows(staff_admin.get("/admin/"))

    assert rows["Last anchoring batch"]["value"] == "none yet"
    assert rows["Dead letters waiting"]["value"] == 0


def test_non_staff_never_reach_the_index(user):
    client = Client()
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert cache_get(ADMIN_DASHBOARD_CACHE_KEY) is None  # nothing was computed for them
