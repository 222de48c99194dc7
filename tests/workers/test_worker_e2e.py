"""A real worker thread consuming from the real Redis broker: the task goes
through the queue its route names and its result lands in
django-celery-results."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django_celery_results.models import TaskResult

from config.celery import app
from workers.models import DeadLetter
from workers.routing import QUEUES


@pytest.fixture
def live_worker(transactional_db):
    app.loader.import_default_modules()
    with start_worker(app, pool="solo", perform_ping_check=False, queues=list(QUEUES), shutdown_timeout=10) as worker:
        yield worker


def test_ping_runs_on_a_worker_and_stores_its_result(live_worker):
    result = app.send_task("workers.ping")

    assert result.get(timeout=20) == "pong"
    stored = TaskResult.objects.get(task_id=result.id)
    assert stored.status == "SUCCESS"
    assert stored.task_name == "workers.ping"


def test_a_task_that_fails_on_the_worker_lands_in_dead_letter(live_worker):
    result = app.send_task("workers.cleanup_task_results", kwargs={"older_than_days": "not a number"})

    with pytest.raises(TypeError):
        result.get(timeout=20)
    # Celery stores the failed result before it sends task_failure, whose handler writes the letter.
    deadline = time.monotonic() + 20
    while not (letter := DeadLetter.objects.filter(task_id=result.id).first()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert letter is not None, "no dead letter within 20 s of the failed result"
    assert letter.kwargs == {"older_than_days": "not a number"}
    assert "TypeError" in letter.exception
