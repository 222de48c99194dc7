"""The one WebSocket endpoint, ``/ws/`` (DESIGN.md § WebSocket).

Every message is ``{type, id, data, timestamp}``; ``id`` is the Notification
id for persisted events and null for protocol messages."""

import asyncio
import json
import uuid

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from accounts.selectors import session_get_active
from config.metrics import metric_count, websocket_gone, websocket_seen
from realtime.clock import LoopClock
from realtime.middleware import BEARER_SUBPROTOCOL
from realtime.selectors import notification_replay
from realtime.services import BROADCAST_GROUP, EVENT_TYPES, event_message, session_group, user_group

# Custom close codes (4000-4999 are the application's).
CLOSE_POLICY_VIOLATION = 1008
CLOSE_HEARTBEAT_TIMEOUT = 4408
# The socket's session ended (logout, revoked, password changed): sign in again.
CLOSE_SESSION_ENDED = 4401
REPLAY_PAGE = 500
MAX_NOTIFICATION_ID = 2**63 - 1  # Notification ids are bigint

replay_page = database_sync_to_async(notification_replay)


@database_sync_to_async
def session_is_active(*, session_id, user_id) -> bool:
    session = session_get_active(session_id=session_id, user_id=user_id)
    return session is not None and session.user.is_active


def _message(type_: str, data=None, id_=None) -> dict:
    return {"type": type_, "id": id_, "data": data if data is not None else {}, "timestamp": timezone.now().isoformat()}


class EventConsumer(AsyncJsonWebsocketConsumer):
    clock = LoopClock()  # what the heartbeat reads; tests advance their own

    async def connect(self):
        self.user = self.scope.get("user")
        subprotocols = self.scope.get("subprotocols") or []
        # A client that offered `bearer, <token>` needs "bearer" echoed, or the browser drops the socket.
        subprotocol = BEARER_SUBPROTOCOL if subprotocols and subprotocols[0].lower() == BEARER_SUBPROTOCOL else None
        if self.user is None or not self.user.is_authenticated:
            # Refused before accept: ASGI websocket.close with 1008. daphne answers the
            # handshake with HTTP 403 (autobahn will not send 1008 on an open socket:
            # servers may only close with 1000 or 3000-4999), so the credential is never
            # exchanged for an open socket; browsers see 1006 and the live page then
            # learns from the ticket endpoint's 401 that it must sign in again.
            await self.close(code=CLOSE_POLICY_VIOLATION)
            return
        await self.accept(subprotocol=subprotocol)
        self.session_id = getattr(self.user, "current_session_id", None)
        self.groups_joined = [session_group(self.session_id), user_group(self.user.pk), BROADCAST_GROUP]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        # The session may have ended between the handshake's check and joining its group.
        if not await self._session_is_active():
            return await self._end_session()
        self.connection_id = str(uuid.uuid4())
        self.types: set[str] | None = None  # None: every type; subscribe/unsubscribe narrow it
        self.replayed_ids: set[int] = set()
        self.heartbeat_seconds = float(settings.WS_HEARTBEAT_SECONDS)
        self.last_seen = self.clock.now()
        self.counted_as = self.connection_id  # in tally_websocket_connections until it leaves
        await asyncio.to_thread(websocket_seen, self.counted_as)
        self.heartbeat = asyncio.ensure_future(self._watch_heartbeat())
        await self.send_json(_message("connected", {"user_id": str(self.user.pk), "connection_id": self.connection_id}))

    async def disconnect(self, code):
        heartbeat = getattr(self, "heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
        await self._leave_groups()

    async def _leave_groups(self):
        counted, self.counted_as = getattr(self, "counted_as", None), None
        if counted:
            await asyncio.to_thread(websocket_gone, counted)
        groups, self.groups_joined = getattr(self, "groups_joined", []), []
        for group in groups:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:  # Redis gone: the subscription dies with the socket anyway
                pass

    async def _watch_heartbeat(self):
        while True:
            idle = self.clock.now() - self.last_seen
            if idle >= self.heartbeat_seconds:
                await self.close(code=CLOSE_HEARTBEAT_TIMEOUT)
                return
            if self.counted_as:  # still open: keep it counted (not awaited: the watch never waits on Redis)
                asyncio.get_running_loop().run_in_executor(None, websocket_seen, self.counted_as)
            await self.clock.sleep(self.heartbeat_seconds - idle)

    # Client -> server

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not getattr(self, "connection_id", None):
            return
        self.last_seen = self.clock.now()
        if text_data is None:
            return await self._error("binary_not_supported", "Send JSON text frames.")
        if len(text_data.encode()) > settings.WS_MAX_MESSAGE_BYTES:
            return await self._error("too_large", f"Frames are limited to {settings.WS_MAX_MESSAGE_BYTES} bytes.")
        try:
            content = json.loads(text_data)
        except (ValueError, RecursionError):  # deep nesting ("[[[[...") exhausts the parser's stack
            return await self._error("invalid_json", "Not JSON.")
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return await self._error("invalid_message", "A message is an object with a string `type`.")
        handler = self.client_handlers.get(content["type"])
        if handler is None:
            return await self._error("unknown_type", f"Unknown message type {content['type']!r}.")
        data = content.get("data", {})
        if data is None:
            data = {}
        if not isinstance(data, dict):
            return await self._error("invalid_message", "`data` must be an object.")
        await handler(self, data)

    async def on_ping(self, data):
        await self.send_json(_message("pong"))

    def _types_from(self, data) -> set[str] | None:
        types = data.get("types")
        if not isinstance(types, list) or not types or not all(isinstance(t, str) for t in types):
            return None
        return set(types)

    async def on_subscribe(self, data, subscribe=True):
        types = self._types_from(data)
        if types is None:
            return await self._error("invalid_message", "`data.types` must be a non-empty list of event types.")
        unknown = sorted(types - EVENT_TYPES)
        if unknown:
            return await self._error("unknown_event_type", f"Unknown event types: {', '.join(unknown)}.")
        if subscribe:
            self.types = types if self.types is None else self.types | types
        else:
            self.types = (set(EVENT_TYPES) if self.types is None else self.types) - types
        reply = "subscribed" if subscribe else "unsubscribed"
        await self.send_json(_message(reply, {"types": sorted(self.types)}))

    def _wants(self, event_type) -> bool:
        return self.types is None or event_type in self.types

    async def on_unsubscribe(self, data):
        await self.on_subscribe(data, subscribe=False)

    async def _session_is_active(self) -> bool:
        return await session_is_active(session_id=self.session_id, user_id=self.user.pk)

    async def on_resume(self, data):
        last_id = data.get("last_message_id")
        if isinstance(last_id, bool) or not isinstance(last_id, int) or not 0 <= last_id <= MAX_NOTIFICATION_ID:
            return await self._error("invalid_message", "`data.last_message_id` must be a non-negative integer.")
        # History only for a live session, even if the close message was lost.
        if not await self._session_is_active():
            await self._error("session_ended", "The session has ended; sign in again.")
            return await self._end_session()
        # Live events wait in the channel queue while this runs (one message at
        # a time per consumer); those already replayed are not sent twice.
        self.replayed_ids = set()
        cursor, replayed = last_id, 0
        while True:
            page = await replay_page(user_id=self.user.pk, after_id=cursor, limit=REPLAY_PAGE)
            for notification in page:
                self.replayed_ids.add(notification.id)
                cursor = notification.id
                if self._wants(notification.type):
                    await self.send_json(event_message(notification))
                    replayed += 1
            if len(page) < REPLAY_PAGE:
                break
        await self.send_json(_message("resumed", {"last_message_id": cursor, "replayed": replayed}))

    client_handlers = {
        "ping": on_ping,
        "subscribe": on_subscribe,
        "unsubscribe": on_unsubscribe,
        "resume": on_resume,
    }

    async def _error(self, code: str, detail: str):
        await self.send_json(_message("error", {"code": code, "detail": detail}))

    # Server -> client: every event the channel layer brings (services.publish)

    async def event_message(self, event):
        if not getattr(self, "connection_id", None):
            return  # closing: the session ended
        message = event["message"]
        if message.get("id") in self.replayed_ids or not self._wants(message.get("type")):
            return
        # services.publish encodes the JSON once for every socket it reaches.
        text = event.get("text")
        await (self.send(text_data=text) if text else self.send_json(message))
        await asyncio.to_thread(metric_count, "events_delivered", message.get("type") or "")

    async def session_ended(self, event):
        await self._end_session()

    async def _end_session(self):
        """No event reaches the socket once its session ended, not even while
        the client completes the close handshake."""
        self.connection_id = None
        await self._leave_groups()
        await self.close(code=CLOSE_SESSION_ENDED)
