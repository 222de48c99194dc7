import pytest

from ledger.events import transactions_changed


@pytest.fixture
def events():
    """Every transactions_changed the ledger sends, as dicts."""
    received = []

    def receiver(sender, **kwargs):
        kwargs.pop("signal", None)
        received.append(kwargs)

    transactions_changed.connect(receiver, dispatch_uid="tests-ledger-events")
    yield received
    transactions_changed.disconnect(dispatch_uid="tests-ledger-events")


@pytest.fixture
def eager_celery():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
