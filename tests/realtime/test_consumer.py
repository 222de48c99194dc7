"""The /ws/ consumer through config.asgi.application on the real Redis channel layer."""

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from realtime.consumers import EventConsumer
from realtime.models import Notification
from realtime.services import anotify, broadcast, notify
from tests.realtime.conftest import (
    assert_refused,
    communicator,
    connected,
    expired_token_for,
    receive,
    receive_type,
    send,
)

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def notify_committed(user_id, event_type="transaction_update", data=None):
    with transaction.atomic():
        return notify(user_id, event_type, data or {"n": 1}).id


@database_sync_to_async
def broadcast_committed(data):
    with transaction.atomic():
        return broadcast("broadcast", data).id


async def test_good_token_connects_with_user_and_connection_id(make_user, token_for):
    user = await make_user()
    async with connected(await token_for(user)) as comm:
        assert comm.hello["data"]["user_id"] == str(user.pk)
        assert comm.hello["data"]["connection_id"]
        assert comm.hello["id"] is None and comm.hello["timestamp"]


async def test_token_in_bearer_subprotocol_connects(make_user, token_for):
    user = await make_user()
    comm = communicator("/ws/", subprotocols=["bearer", await token_for(user)])
    ok, subprotocol = await comm.connect(timeout=5)
    assert ok and subprotocol == "bearer"
    assert (await receive_type(comm, "connected"))["data"]["user_id"] == str(user.pk)
    await comm.disconnect()


async def test_missing_token_is_refused_with_1008():
    await assert_refused("/ws/")


async def test_tampered_token_is_refused_with_1008(make_user, token_for):
    token = await token_for(await make_user())
    head, payload, signature = token.split(".")
    await assert_refused(f"/ws/?token={head}.{payload}.{signature[::-1]}")
    await assert_refused("/ws/?token=not-a-jwt")


async def test_expired_token_is_refused_with_1008(make_user):
    user = await make_user()
    await assert_refused(f"/ws/?token={await database_sync_to_async(expired_token_for)(user)}")


async def test_refresh_token_as_access_is_refused_with_1008(make_user):
    from accounts.services import session_start

    user = await make_user()
    pair = await database_sync_to_async(session_start)(user=user)
    await assert_refused(f"/ws/?token={pair.refresh}")


async def test_token_of_revoked_session_is_refused_with_1008(make_user):
    from accounts.services import session_revoke, session_start

    user = await make_user()
    pair = await database_sync_to_async(session_start)(user=user)
    await database_sync_to_async(session_revoke)(session=pair.session)
    await assert_refused(f"/ws/?token={pair.access}")


async def test_token_of_deleted_user_is_refused_with_1008(make_user, token_for):
    user = await make_user()
    token = await token_for(user)
    await database_sync_to_async(user.delete)()
    await assert_refused(f"/ws/?token={token}")


async def test_ping_is_answered_with_pong(make_user, token_for):
    async with connected(await token_for(await make_user())) as comm:
        await send(comm, "ping")
        pong = await receive_type(comm, "pong")
        assert pong["id"] is None


async def test_committed_event_reaches_the_user(make_user, token_for):
    user = await make_user()
    async with connected(await token_for(user)) as comm:
        event_id = await notify_committed(user.pk, "budget_alert", {"category": "Groceries", "level": "warning"})
        message = await receive_type(comm, "budget_alert")
        assert message["id"] == event_id
        assert message["data"] == {"category": "Groceries", "level": "warning"}
        assert set(message) == {"type", "id", "data", "timestamp"}


async def test_rolled_back_event_is_never_sent_nor_kept(make_user, token_for):
    user = await make_user()

    @database_sync_to_async
    def notify_then_roll_back():
        with pytest.raises(RuntimeError), transaction.atomic():
            notify(user.pk, "transaction_update", {"n": "lost"})
            raise RuntimeError

    async with connected(await token_for(user)) as comm:
        await notify_then_roll_back()
        kept = await notify_committed(user.pk, data={"n": "kept"})
        message = await receive(comm)
        assert message["id"] == kept and message["data"] == {"n": "kept"}
    assert await database_sync_to_async(Notification.objects.count)() == 1


async def test_anotify_from_async_code_delivers(make_user, token_for):
    user = await make_user()
    async with connected(await token_for(user)) as comm:
        notification = await anotify(user.pk, "portfolio_update", {"holding": {"identifier": "VWRL"}})
        assert (await receive_type(comm, "portfolio_update"))["id"] == notification.id


async def test_subscribe_filters_event_types(make_user, token_for):
    user = await make_user()
    async with connected(await token_for(user)) as comm:
        await send(comm, "subscribe", {"types": ["budget_alert"]})
        assert (await receive_type(comm, "subscribed"))["data"]["types"] == ["budget_alert"]
        await notify_committed(user.pk, "transaction_update")
        alert = await notify_committed(user.pk, "budget_alert")
        assert (await receive(comm))["id"] == alert  # the transaction_update before it was filtered out

        await send(comm, "unsubscribe", {"types": ["budget_alert"]})
        assert (await receive_type(comm, "unsubscribed"))["data"]["types"] == []
        await notify_committed(user.pk, "budget_alert")
        await send(comm, "ping")
        await receive_type(comm, "pong")


async def test_unknown_event_type_in_subscribe_is_an_error_and_socket_stays_open(make_user, token_for):
    async with connected(await token_for(await make_user())) as comm:
        await send(comm, "subscribe", {"types": ["budget_alert", "stock_tips"]})
        error = await receive_type(comm, "error")
        assert error["data"]["code"] == "unknown_event_type"
        await send(comm, "ping")
        await receive_type(comm, "pong")


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json{", "invalid_json"),
        ('["a list"]', "invalid_message"),
        ('{"data": {}}', "invalid_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "resume", "data": {"last_message_id": "x"}}', "invalid_message"),
        ('{"type": "subscribe", "data": {"types": "budget_alert"}}', "invalid_message"),
        ('{"type": "ping", "data": [1]}', "invalid_message"),
        ("[" * 10_000, "invalid_json"),  # nesting deeper than the parser's recursion limit
        ('{"type": "ping", "data": ' + '{"a": ' * 2_000 + "}" * 2_001, "invalid_json"),
        ('{"type": "resume", "data": {"last_message_id": 9223372036854775808}}', "invalid_message"),
        ('{"type": "resume", "data": {"last_message_id": -1}}', "invalid_message"),
    ],
)
async def test_malformed_frames_get_an_error_not_a_crash(make_user, token_for, frame, code):
    async with connected(await token_for(await make_user())) as comm:
        await comm.send_to(text_data=frame)
        assert (await receive_type(comm, "error"))["data"]["code"] == code
        await send(comm, "ping")
        await receive_type(comm, "pong")


async def test_oversize_and_binary_frames_get_an_error(make_user, token_for, settings):
    settings.WS_MAX_MESSAGE_BYTES = 1024
    async with connected(await token_for(await make_user())) as comm:
        await comm.send_to(text_data='{"type": "ping", "data": {"pad": "' + "x" * 2000 + '"}}')
        assert (await receive_type(comm, "error"))["data"]["code"] == "too_large"
        await comm.send_to(bytes_data=b"\x00\x01")
        assert (await receive_type(comm, "error"))["data"]["code"] == "binary_not_supported"
        await send(comm, "ping")
        await receive_type(comm, "pong")


async def test_resume_replays_missed_events_in_order_then_resumed(make_user, token_for):
    user = await make_user()
    token = await token_for(user)
    async with connected(token) as comm:
        seen = await notify_committed(user.pk, data={"n": 0})
        assert (await receive(comm))["id"] == seen
    # Disconnected: these are only in the database.
    missed = [await notify_committed(user.pk, data={"n": n}) for n in range(1, 6)]
    async with connected(token) as comm:
        await send(comm, "resume", {"last_message_id": seen})
        replayed = [await receive(comm) for _ in missed]
        assert [m["id"] for m in replayed] == missed
        assert [m["data"]["n"] for m in replayed] == [1, 2, 3, 4, 5]
        resumed = await receive_type(comm, "resumed")
        assert resumed["data"] == {"last_message_id": missed[-1], "replayed": 5}


async def test_resume_includes_broadcasts_but_not_other_users_events(make_user, token_for):
    user, other = await make_user(), await make_user()
    before = await notify_committed(user.pk)
    others = await notify_committed(other.pk)
    announcement = await broadcast_committed({"text": "maintenance"})
    mine = await notify_committed(user.pk)
    async with connected(await token_for(user)) as comm:
        await send(comm, "resume", {"last_message_id": before})
        assert (await receive(comm))["id"] == announcement
        assert (await receive(comm))["id"] == mine
        await receive_type(comm, "resumed")
    assert others not in (announcement, mine)


async def test_slow_client_loses_nothing_resume_cannot_bring_back(make_user, token_for):
    """A socket that stops reading: whatever the layer drops or the socket
    never delivers is persisted, so reading what arrived plus a resume from the
    last id read yields every event exactly once, in order."""
    user = await make_user()
    token = await token_for(user)
    async with connected(token) as comm:
        ids = [await notify_committed(user.pk, data={"n": n}) for n in range(60)]
        got = [(await receive(comm))["id"] for _ in range(10)]  # reads a little, then "stalls"
    async with connected(token) as comm:
        await send(comm, "resume", {"last_message_id": got[-1]})
        while (message := await receive(comm))["type"] != "resumed":
            got.append(message["id"])
    assert got == ids


async def test_two_sockets_of_one_user_both_receive(make_user, token_for):
    user = await make_user()
    async with connected(await token_for(user)) as tab, connected(await token_for(user)) as phone:
        assert tab.hello["data"]["connection_id"] != phone.hello["data"]["connection_id"]
        event = await notify_committed(user.pk)
        assert (await receive(tab))["id"] == event
        assert (await receive(phone))["id"] == event


async def test_a_user_never_sees_another_users_events(make_user, token_for):
    alice, bob = await make_user(), await make_user()
    async with connected(await token_for(alice)) as a, connected(await token_for(bob)) as b:
        await notify_committed(bob.pk, data={"secret": "bob"})
        alice_event = await notify_committed(alice.pk, data={"for": "alice"})
        assert (await receive(a))["id"] == alice_event  # bob's earlier event never came first
        assert (await receive(b))["data"] == {"secret": "bob"}
        assert await a.receive_nothing(timeout=0.2)


async def test_broadcast_reaches_every_user(make_user, token_for):
    alice, bob = await make_user(), await make_user()
    async with connected(await token_for(alice)) as a, connected(await token_for(bob)) as b:
        event = await broadcast_committed({"text": "hello all"})
        for comm in (a, b):
            message = await receive_type(comm, "broadcast")
            assert message["id"] == event and message["data"] == {"text": "hello all"}


class HandClock:
    """The heartbeat's clock, advanced by the test: sleepers wake when their time has come."""

    def __init__(self):
        self.time, self.sleepers = 0.0, []

    def now(self) -> float:
        return self.time

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        self.sleepers.append((self.time + seconds, wake))
        await wake

    def advance(self, seconds: float) -> None:
        self.time += seconds
        due = [(at, wake) for at, wake in self.sleepers if at <= self.time]
        self.sleepers = [(at, wake) for at, wake in self.sleepers if at > self.time]
        for _, wake in due:
            if not wake.done():
                wake.set_result(None)


@pytest.fixture
def hand_clock(monkeypatch):
    clock = HandClock()
    monkeypatch.setattr(EventConsumer, "clock", clock)
    return clock


async def test_silent_socket_is_closed_after_heartbeat_timeout(make_user, token_for, settings, hand_clock):
    settings.WS_HEARTBEAT_SECONDS = 30
    async with connected(await token_for(await make_user())) as comm:
        hand_clock.advance(29.9)
        await send(comm, "ping")  # a message before the timeout...
        await receive_type(comm, "pong")
        hand_clock.advance(30)  # ...then 30 s of silence
        closed = await comm.receive_output(timeout=3)
        assert closed == {"type": "websocket.close", "code": 4408}


async def test_client_messages_keep_the_socket_alive(make_user, token_for, settings, hand_clock):
    settings.WS_HEARTBEAT_SECONDS = 30
    async with connected(await token_for(await make_user())) as comm:
        for _ in range(4):  # 4 x 20 s > the timeout, but never 30 s silent
            hand_clock.advance(20)
            await send(comm, "ping")
            await receive_type(comm, "pong")
        assert hand_clock.time == 80 and hand_clock.sleepers  # still watched, still open
