import pytest

from realtime import services as realtime_services


@pytest.fixture
def sent_alerts(monkeypatch):
    """Records every budget alert handed to realtime instead of sending it."""
    calls = []
    monkeypatch.setattr(realtime_services, "notify_budget_alert", lambda **kwargs: calls.append(kwargs))
    return calls
