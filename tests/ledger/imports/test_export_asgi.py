"""The export under ASGI (daphne): streamed from an async iterator, not read
into a list by Django first."""

import asyncio
import warnings

import pytest
from channels.db import database_sync_to_async
from django.core.handlers.asgi import ASGIHandler

from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def asgi_get(path: str, token: str) -> tuple[int, list[dict]]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"format=csv",
        "root_path": "",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    sent, request_sent, never = [], False, asyncio.Event()

    async def receive():
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # the client stays connected (a disconnect would cancel the request)

    async def send(message):
        sent.append(message)

    await ASGIHandler()(scope, receive, send)
    return sent[0]["status"], [m for m in sent if m["type"] == "http.response.body"]


async def test_export_streams_under_asgi_without_buffering(make_user, token_for):
    user = await make_user()
    await database_sync_to_async(lambda: [TransactionFactory(user=user) for _ in range(450)])()
    token = await token_for(user)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, bodies = await asgi_get("/api/v1/transactions/export", token)

    assert status == 200
    text = b"".join(m.get("body", b"") for m in bodies).decode()
    assert text.splitlines()[0].startswith("date,amount,currency,merchant")
    assert len(text.splitlines()) == 451
    assert not [w for w in caught if "consume synchronous iterators" in str(w.message)]
