"""Admin fixes: "View site" lands on a page, "Merkle batches" is spelt right,
one task-result cleanup schedule, and anchoring from admin confirms first and
never freezes today's rows into yesterday's batch."""

import datetime
import importlib

import pytest
import time_machine
from django.apps import apps as django_apps
from django.test import Client
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from config.celery import app
from ledger.models import MerkleBatch, Transaction
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
UTC = datetime.UTC


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_view_site_goes_to_the_api_docs_which_exist(superuser_client):
    index = superuser_client.get("/admin/")

    assert index.context["site_url"] == "/api/docs/"
    assert superuser_client.get("/api/docs/").status_code == 200
    assert b"Merkle batches" in index.content and b"Merkle batchs" not in index.content


def test_one_task_result_cleanup_schedule():
    assert app.conf.result_expires is None  # so beat never installs celery.backend_cleanup
    schedule = CrontabSchedule.objects.create(minute="0", hour="4")
    PeriodicTask.objects.create(name="celery.backend_cleanup", task="celery.backend_cleanup", crontab=schedule)
    migration = importlib.import_module("workers.migrations.0009_drop_celery_backend_cleanup")

    migration.drop(django_apps, None)

    assert not PeriodicTask.objects.filter(task="celery.backend_cleanup").exists()
    assert PeriodicTask.objects.filter(task="workers.cleanup_task_results").count() == 1


def test_anchoring_from_admin_asks_first_and_leaves_todays_rows(superuser_client, user):
    with time_machine.travel(datetime.datetime(2026, 11, 22, 10, tzinfo=UTC), tick=False):
        yesterdays = TransactionFactory(user=user)
    now = datetime.datetime(2026, 11, 23, 15, tzinfo=UTC)
    with time_machine.travel(now - datetime.timedelta(hours=2), tick=False):
        todays = TransactionFactory(user=user)

    with time_machine.travel(now, tick=False):
        changelist = superuser_client.get("/admin/ledger/merklebatch/")
        confirm = superuser_client.get("/admin/ledger/merklebatch/anchor/")
        assert not MerkleBatch.objects.exists()  # asking anchors nothing
        wrong = superuser_client.post("/admin/ledger/merklebatch/anchor/", {"confirm": "2026-11-20"})
        assert not MerkleBatch.objects.exists()
        done = superuser_client.post("/admin/ledger/merklebatch/anchor/", {"confirm": "2026-11-22"}, follow=True)

    assert b"/admin/ledger/merklebatch/anchor/" in changelist.content
    assert confirm.status_code == 200
    assert b"<strong>1</strong> unanchored row(s)" in confirm.content
    assert b"dated\n<strong>2026-11-22</strong>" in confirm.content and b"frozen" in confirm.content
    assert wrong.status_code == 200  # a stale or forged confirmation only asks again
    batch = MerkleBatch.objects.get()
    assert (batch.batch_date, batch.transaction_count) == (datetime.date(2026, 11, 22), 1)
    assert Transaction.objects.get(pk=yesterdays.pk).merkle_batch_id == batch.pk
    assert Transaction.objects.get(pk=todays.pk).merkle_batch_id is None
    assert "Anchored 1 row(s) into the 2026-11-22 batch." in [str(m) for m in done.context["messages"]]


def test_only_superusers_anchor_from_admin(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get("/admin/ledger/merklebatch/anchor/").status_code == 403
