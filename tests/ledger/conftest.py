import pytest

from ledger.events import transactions_changed
from ledger.transactions import services
from merchants.services import MerchantMatch


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
def merchant_matcher(monkeypatch):
    """Stands in for merchants.match_merchant (exact canonical name -> 1.0)
    so these tests do not depend on the merchants issue having landed; it
    counts calls to prove imports match once per distinct merchant."""
    from merchants.models import Merchant

    calls = []

    def fake_match(raw_text):
        calls.append(raw_text)
        merchant = Merchant.objects.filter(canonical_name__iexact=raw_text.strip()).first()
        return MerchantMatch(merchant=merchant, score=1.0, method="exact") if merchant else None

    monkeypatch.setattr(services, "match_merchant", fake_match)
    return calls


@pytest.fixture
def eager_celery():
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
