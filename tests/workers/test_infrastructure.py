import json
from datetime import timedelta

import pytest
import redis
from django.apps import apps as django_apps
from django.db import OperationalError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_results.models import TaskResult

from accounts import services as account_services
from accounts.models import Session
from config.celery import app
from config.tasks import TallyTask
from workers import services
from workers.models import DeadLetter
from workers.routing import QUEUES, TASK_ROUTES
from workers.schedules import FOUNDATION_SCHEDULES, sync_schedules

pytestmark = pytest.mark.django_db

calls = {"flaky": 0}


@app.task(name="tests.flaky", base=TallyTask, bind=True, max_retries=3, retry_backoff=False)
def flaky(self, fail_times):
    calls["flaky"] += 1
    if calls["flaky"] <= fail_times:
        raise OperationalError("server closed the connection unexpectedly")
    return {"attempts": calls["flaky"]}


@app.task(name="tests.broken", base=TallyTask)
def broken(amount):
    raise ValueError(f"amount {amount} is not a number")


@pytest.fixture(autouse=True)
def reset_calls():
    calls["flaky"] = 0


def test_every_routed_task_goes_to_a_known_queue():
    app.loader.import_default_modules()
    for task_name, route in TASK_ROUTES.items():
        assert route["queue"] in QUEUES
        assert task_name in app.tasks, f"{task_name} is routed but not registered"
        assert app.amqp.router.route({}, task_name)["queue"].name == route["queue"]


def test_transient_error_retries_then_succeeds(celery_eager):
    result = flaky.delay(2)
    assert result.successful()
    assert result.get() == {"attempts": 3}
    assert not DeadLetter.objects.exists()


def test_transient_error_past_max_retries_lands_in_dead_letter(celery_eager):
    result = flaky.delay(10)
    assert result.failed()
    assert calls["flaky"] == 4  # first run + 3 retries
    letter = DeadLetter.objects.get()
    assert letter.task_name == "tests.flaky"
    assert "OperationalError" in letter.exception


def test_permanent_error_does_not_retry_and_is_dead_lettered(celery_eager):
    result = broken.delay("12,50")
    assert result.failed()
    letter = DeadLetter.objects.get()
    assert letter.args == ["12,50"]
    assert "ValueError: amount 12,50 is not a number" in letter.exception
    assert "Traceback" in letter.traceback


def test_requeue_sends_the_task_to_its_queue_and_records_it():
    letter = DeadLetter.objects.create(task_name="workers.cleanup_task_results", args=[], kwargs={"older_than_days": 3})
    broker = redis.Redis.from_url(app.conf.broker_url)

    task_id = services.dead_letter_requeue(dead_letter=letter)

    letter.refresh_from_db()
    assert letter.requeued_at is not None
    assert letter.requeue_count == 1
    message = json.loads(broker.lindex("low_priority", 0))
    assert message["headers"]["task"] == "workers.cleanup_task_results"
    assert message["headers"]["id"] == task_id


def test_schedule_rows_exist_and_syncing_again_duplicates_nothing():
    names = {entry.name for entry in FOUNDATION_SCHEDULES}
    rows = PeriodicTask.objects.filter(name__in=names)
    assert {row.name for row in rows} == names
    assert rows.get(task="accounts.cleanup_expired_sessions").crontab.hour == "4"
    before = PeriodicTask.objects.count()

    sync_schedules(django_apps, FOUNDATION_SCHEDULES)

    assert PeriodicTask.objects.count() == before


def test_session_cleanup_removes_only_expired_and_long_revoked(user):
    now = timezone.now()
    live = account_services.session_start(user=user).session
    expired = account_services.session_start(user=user).session
    Session.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(minutes=1))
    recently_revoked = account_services.session_start(user=user).session
    Session.objects.filter(pk=recently_revoked.pk).update(revoked_at=now - timedelta(days=2))
    long_revoked = account_services.session_start(user=user).session
    Session.objects.filter(pk=long_revoked.pk).update(revoked_at=now - timedelta(days=31))

    summary = account_services.sessions_cleanup_expired(now=now)

    assert summary["sessions"] == 2
    assert set(Session.objects.values_list("pk", flat=True)) == {live.pk, recently_revoked.pk}


def test_task_result_cleanup_keeps_recent_results():
    old = TaskResult.objects.create(task_id="old", status="SUCCESS")
    TaskResult.objects.filter(pk=old.pk).update(date_done=timezone.now() - timedelta(days=30))
    TaskResult.objects.create(task_id="new", status="SUCCESS")

    assert services.task_results_cleanup(older_than_days=14) == 1
    assert list(TaskResult.objects.values_list("task_id", flat=True)) == ["new"]
