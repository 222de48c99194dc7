import json
from contextlib import asynccontextmanager
from datetime import timedelta

from channels.testing import WebsocketCommunicator
from rest_framework_simplejwt.tokens import AccessToken

from accounts.services import session_start
from config.asgi import application
from tests.conftest import access_token_for  # noqa: F401 (imported from here by other tests)


def expired_token_for(user) -> str:
    pair = session_start(user=user)
    token = AccessToken(pair.access)
    token.set_exp(lifetime=-timedelta(seconds=1))
    return str(token)


def communicator(path: str, **kwargs) -> WebsocketCommunicator:
    return WebsocketCommunicator(application, path, **kwargs)


async def receive(comm, timeout=3):
    return await comm.receive_json_from(timeout=timeout)


async def receive_type(comm, type_, timeout=3):
    """The next message of ``type_``, failing on anything else first."""
    message = await receive(comm, timeout)
    assert message["type"] == type_, message
    return message


@asynccontextmanager
async def connected(token: str):
    comm = communicator(f"/ws/?token={token}")
    ok, _ = await comm.connect(timeout=5)
    assert ok
    # Up to 10 s, not 3: after a Redis restart the layer's first subscribe waits out its reconnect backoff.
    hello = await receive_type(comm, "connected", timeout=10)
    comm.hello = hello
    try:
        yield comm
    finally:
        await comm.disconnect()


async def assert_refused(path, **kwargs):
    comm = communicator(path, **kwargs)
    assert await comm.connect(timeout=5) == (False, 1008)
    await comm.wait()


async def send(comm, type_, data=None):
    await comm.send_to(text_data=json.dumps({"type": type_, "data": data or {}}))
