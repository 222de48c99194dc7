import datetime
from decimal import Decimal

import pytest

from ledger.models import ExchangeRate

D = datetime.date

# Rates (units per 1 EUR) small enough to check by hand. 2026-03-04 has a
# USD rate but no GBP one; nothing after 2026-03-04.
RATES = {
    D(2026, 3, 2): {"USD": "1.080000", "GBP": "0.850000", "JPY": "160.000000"},
    D(2026, 3, 3): {"USD": "1.090000", "GBP": "0.860000"},
    D(2026, 3, 4): {"USD": "1.100000"},
}


@pytest.fixture
def rates(db):
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=code, date=day, rate=Decimal(value), source=ExchangeRate.Source.ECB_HISTORY)
        for day, codes in RATES.items()
        for code, value in codes.items()
    )
    return RATES


@pytest.fixture
def auth_client_for(db):
    """An API client signed in as the given user (a real session and token)."""
    from rest_framework.test import APIClient

    from tests.conftest import TEST_PASSWORD, login

    def make(user):
        user.set_password(TEST_PASSWORD)
        user.save(update_fields=["password"])
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, user)['access']}")
        return client

    return make
