"""notify() from the places that call it (a view, a Celery task body) and when Redis is away."""

import json
import logging
import socket

import pytest
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from realtime.models import Notification
from realtime.services import _pubsub_clients, notify_transaction_update, publish
from realtime.tasks import broadcast_send
from tests.conftest import login
from tests.realtime.conftest import connected, receive, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    """The channel layer points at a port where nothing listens."""
    layers = {**settings.CHANNEL_LAYERS}
    layers["default"] = {**layers["default"], "CONFIG": {**layers["default"]["CONFIG"]}}
    layers["default"]["CONFIG"]["hosts"] = [f"redis://127.0.0.1:{_free_port()}/0"]
    settings.CHANNEL_LAYERS = layers  # channels resets its layer cache on setting_changed
    yield


async def test_transaction_created_through_the_api_reaches_the_socket(make_user, token_for):
    user = await make_user(password="correct-horse-battery-9")
    client = APIClient()
    tokens = await database_sync_to_async(login)(client, user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    async with connected(await token_for(user)) as comm:
        response = await database_sync_to_async(client.post)(
            "/api/v1/transactions",
            {"amount": "12.50", "date": "2026-01-05", "merchant_raw": "Corner Cafe"},
            format="json",
        )
        assert response.status_code == 201, response.content
        message = await receive_type(comm, "transaction_update")
        assert message["data"]["action"] == "created"
        assert message["data"]["transaction"]["id"] == response.json()["id"]
        assert message["data"]["transaction"]["amount"] == "12.50"


async def test_notify_from_a_celery_task_body_reaches_every_socket(make_user, token_for):
    user = await make_user()
    async with connected(await token_for(user)) as comm:
        result = await database_sync_to_async(broadcast_send.apply)(args=("broadcast", {"text": "from a task"}))
        message = await receive_type(comm, "broadcast")
        assert message["id"] == result.get()
        assert message["data"] == {"text": "from a task"}


def test_redis_down_at_notify_time_keeps_the_request_and_the_event(user, auth_client, redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="realtime.services"):
        response = auth_client.post(
            "/api/v1/transactions", {"amount": "9.99", "date": "2026-01-05", "merchant_raw": "Bookshop"}, format="json"
        )
    assert response.status_code == 201, response.content
    event = Notification.objects.get(user=user, type="transaction_update")
    assert event.data["transaction"]["id"] == response.json()["id"]
    assert "left for resume" in caplog.text


def test_publish_reports_failure_instead_of_raising(redis_down):
    assert publish("user.nobody", {"type": "broadcast", "id": None, "data": {}, "timestamp": ""}) is False


async def test_event_persisted_while_redis_was_down_arrives_on_resume(make_user, token_for, settings):
    user = await make_user()
    good_layers = django_settings.CHANNEL_LAYERS
    bad = {"default": {**good_layers["default"], "CONFIG": {**good_layers["default"]["CONFIG"]}}}
    bad["default"]["CONFIG"]["hosts"] = [f"redis://127.0.0.1:{_free_port()}/0"]
    settings.CHANNEL_LAYERS = bad
    missed = await database_sync_to_async(notify_transaction_update)(user_id=user.pk, action="created", transaction={})
    settings.CHANNEL_LAYERS = good_layers
    async with connected(await token_for(user)) as comm:
        await comm.send_json_to({"type": "resume", "data": {"last_message_id": 0}})
        assert (await receive(comm))["id"] == missed.id
        await receive_type(comm, "resumed")


async def test_publish_reaches_sockets_through_the_core_channel_layer_too(make_user, token_for, settings):
    # The pub/sub layer is published to from a persistent connection; any other layer gets its own group_send.
    layers = {"default": {**django_settings.CHANNEL_LAYERS["default"]}}
    layers["default"]["BACKEND"] = "channels_redis.core.RedisChannelLayer"
    settings.CHANNEL_LAYERS = layers
    user = await make_user()
    async with connected(await token_for(user)) as comm:
        event = await database_sync_to_async(notify_transaction_update)(
            user_id=user.pk, action="created", transaction={}
        )
        message = await receive_type(comm, "transaction_update")
        assert message["id"] == event.id and message["data"] == {"action": "created", "transaction": {}}


def test_sync_publish_keeps_one_redis_connection_across_calls():
    # Not a new event loop and a new connection per event (what async_to_sync(group_send) costs).
    for n in range(5):
        assert publish("user.nobody", {"type": "broadcast", "id": n, "data": {}, "timestamp": ""}) is True
    hosts = json.dumps(django_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"], sort_keys=True)
    (client,) = _pubsub_clients(hosts)
    pool = client.connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1
