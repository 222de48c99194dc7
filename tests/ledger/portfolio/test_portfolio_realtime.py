"""portfolio_update over the real Redis channel layer, from the API and from the refresh task."""

from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from rest_framework.test import APIClient

from ledger.models import PortfolioHolding
from ledger.tasks import refresh_portfolio_valuations
from realtime.models import Notification
from tests.conftest import login
from tests.realtime.conftest import connected, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


def _holding(user, **fields) -> PortfolioHolding:
    return PortfolioHolding.objects.create(
        user=user,
        asset_type="stock",
        identifier="AAPL",
        units=Decimal("10"),
        cost_basis=Decimal("1500.00"),
        **fields,
    )


async def test_valuation_through_the_api_reaches_the_owners_socket(make_user, token_for):
    owner = await make_user(password="correct-horse-battery-9")
    holding = await database_sync_to_async(_holding)(owner)
    client = APIClient()
    tokens = await database_sync_to_async(login)(client, owner)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    async with connected(await token_for(owner)) as comm:
        response = await database_sync_to_async(client.post)(
            f"/api/v1/portfolio/holdings/{holding.id}/valuation", {"price": "190.125"}, format="json"
        )
        assert response.status_code == 200, response.content
        message = await receive_type(comm, "portfolio_update")

    events = await database_sync_to_async(lambda: list(Notification.objects.values_list("id", "user_id")))()
    assert events == [(message["id"], owner.pk)]  # persisted once, for the owner
    assert message["data"] == {"holding": response.json()}
    assert (message["data"]["holding"]["last_valuation"], message["data"]["holding"]["unrealised_gain"]) == (
        "1901.25",
        "401.25",
    )


async def test_refresh_task_sends_portfolio_update(make_user, token_for, settings, celery_eager):
    settings.PORTFOLIO_PRICE_SOURCE = "ledger.portfolio.prices.StaticPriceSource"
    settings.PORTFOLIO_STATIC_PRICES = {"stock:AAPL": "200"}
    user = await make_user()
    holding = await database_sync_to_async(_holding)(user)

    async with connected(await token_for(user)) as comm:
        result = await database_sync_to_async(refresh_portfolio_valuations.apply)()
        message = await receive_type(comm, "portfolio_update")

    assert result.get()["updated"] == 1
    assert message["data"]["holding"]["id"] == str(holding.id)
    assert (message["data"]["holding"]["last_price"], message["data"]["holding"]["price_source"]) == (
        "200.00000000",
        "static",
    )
