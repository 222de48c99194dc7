"""daphne as a real process: Redis restarted under it, and what its access log writes."""

import asyncio
import json
import urllib.error
import urllib.request

import pytest
import websockets
from channels.db import database_sync_to_async
from django.conf import settings as django_settings
from django.db import transaction

from accounts.services import session_start
from realtime.services import notify, ticket_issue
from tests.accounts.factories import UserFactory
from tests.e2e.servers import RedisServer, daphne

pytestmark = pytest.mark.django_db(transaction=True)


async def _connect(url):
    socket = await websockets.connect(url, open_timeout=10)
    hello = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert hello["type"] == "connected", hello
    return socket


async def _next(socket, timeout=10):
    return json.loads(await asyncio.wait_for(socket.recv(), timeout))


@database_sync_to_async
def _notify(user_id, n):
    with transaction.atomic():
        return notify(user_id, "transaction_update", {"n": n}).id


@pytest.fixture
def throwaway_redis(settings):
    server = RedisServer()
    server.start()
    layers = {"default": {**django_settings.CHANNEL_LAYERS["default"]}}
    layers["default"]["CONFIG"] = {**layers["default"]["CONFIG"], "hosts": [server.url]}
    settings.CHANNEL_LAYERS = layers  # this process publishes to the same throwaway Redis
    settings.REDIS_URL = server.url
    yield server
    server.stop()


async def test_new_sockets_work_after_redis_restarts_under_running_daphne(throwaway_redis):
    user = await database_sync_to_async(UserFactory)()
    token = (await database_sync_to_async(session_start)(user=user)).access
    with daphne(redis_url=throwaway_redis.url) as server:
        before = await _connect(f"{server.ws_url}/ws/?token={token}")
        first = await _notify(user.pk, 1)
        assert (await _next(before))["id"] == first

        throwaway_redis.stop()
        throwaway_redis.start()  # same port, empty

        after = await _connect(f"{server.ws_url}/ws/?token={token}")
        second = await _notify(user.pk, 2)
        assert (await _next(after))["id"] == second
        # Whatever the old socket missed around the restart, resume brings it back.
        await after.send(json.dumps({"type": "resume", "data": {"last_message_id": 0}}))
        replay = [await _next(after) for _ in range(3)]
        assert [m["id"] for m in replay[:2]] == [first, second] and replay[2]["type"] == "resumed"
        await before.close()
        await after.close()


async def test_tokens_and_tickets_never_reach_daphnes_access_log():
    user = await database_sync_to_async(UserFactory)()
    pair = await database_sync_to_async(session_start)(user=user)
    ticket = await database_sync_to_async(ticket_issue)(user_id=user.pk, session_id=pair.session.id)
    with daphne(redis_url=django_settings.REDIS_URL, extra_env={"LOG_FORMAT": "json"}) as server:
        for query in (f"token={pair.access}", f"ticket={ticket}"):
            socket = await _connect(f"{server.ws_url}/ws/?{query}")
            await socket.close()
        # A client that gets it wrong and sends the token over plain HTTP.
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{server.url}/ws/?token={pair.access}&ticket={ticket}", timeout=5)
        # The consumer's 1008 before accept is daphne's 403 handshake refusal.
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{server.ws_url}/ws/?token={pair.refresh}", open_timeout=10)
        assert refused.value.response.status_code == 403
        server.stop()
        log = server.output()
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    connects = [line for line in lines if line["event"] == "websocket_connected"]
    assert len(connects) == 2 and {line["path"] for line in connects} == {"/ws/"}
    # The plain-HTTP attempt: one request line, path without its query string.
    [http] = [line for line in lines if line["event"] == "request" and line["path"] == "/ws/"]
    assert http["method"] == "GET" and http["status"] == 404 and len(http["request_id"]) == 32
    for secret in (pair.access, pair.refresh, ticket):
        assert secret not in log
