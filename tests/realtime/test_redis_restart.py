"""A real Redis of the test's own goes away and comes back within one event
loop (as in a long-running daphne): sockets connect again at once, and what
was decided meanwhile comes back through resume."""

import datetime

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from rest_framework.test import APIClient

from merchants.categories import Category
from realtime.services import notify_transaction_update
from tests.budgets.factories import BudgetFactory
from tests.conftest import login
from tests.realtime.conftest import connected, receive, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


async def test_first_socket_after_a_redis_restart_connects_and_gets_live_events(throwaway_redis, make_user, token_for):
    user = await make_user()
    token = await token_for(user)
    async with connected(token):
        pass  # the layer now holds a pub/sub connection to this Redis

    throwaway_redis.stop()
    throwaway_redis.start()

    async with connected(token) as comm:
        event = await database_sync_to_async(notify_transaction_update)(
            user_id=user.pk, action="created", transaction={}
        )
        message = await receive_type(comm, "transaction_update")
        assert message["id"] == event.id


async def test_budget_alert_decided_while_redis_was_down_arrives_on_resume(throwaway_redis, make_user, token_for):
    user = await make_user(password="correct-horse-battery-9")
    today = timezone.localdate()
    await database_sync_to_async(BudgetFactory)(
        user=user,
        category=Category.GROCERIES,
        amount="100.00",
        start_date=today.replace(day=1),
        end_date=today + datetime.timedelta(days=30),
    )
    client = APIClient()
    tokens = await database_sync_to_async(login)(client, user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    async with connected(tokens["access"]):
        pass

    throwaway_redis.stop()
    response = await database_sync_to_async(client.post)(
        "/api/v1/transactions",
        {"amount": "85.00", "date": today.isoformat(), "merchant_raw": "Tesco", "category": Category.GROCERIES},
        format="json",
    )
    assert response.status_code == 201, response.content
    throwaway_redis.start()

    async with connected(await token_for(user)) as comm:
        await comm.send_json_to({"type": "resume", "data": {"last_message_id": 0}})
        replayed = []
        while (message := await receive(comm))["type"] != "resumed":
            replayed.append(message)
    alerts = [message["data"] for message in replayed if message["type"] == "budget_alert"]
    assert [(alert["level"], alert["spent"], alert["category"]) for alert in alerts] == [
        ("warning", "85.00", "Groceries")
    ]
    assert "transaction_update" in [message["type"] for message in replayed]
