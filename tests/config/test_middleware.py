"""config.middleware.SyncChainMiddleware: under ASGI a request should cross
between the event loop and a worker thread a couple of times, not once per
middleware method."""

import pytest
from asgiref.sync import SyncToAsync
from channels.testing import HttpCommunicator
from django.core.handlers.asgi import ASGIHandler


async def thread_hops(monkeypatch, path="/health/") -> tuple[int, int]:
    calls = []
    original = SyncToAsync.__call__

    async def counting(self, *args, **kwargs):
        calls.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counting)
    communicator = HttpCommunicator(ASGIHandler(), "GET", path, headers=[(b"host", b"testserver")])
    response = await communicator.get_response()
    return response["status"], len(calls)


@pytest.mark.asyncio
async def test_a_request_makes_few_thread_hops(monkeypatch, settings):
    assert settings.MIDDLEWARE[-1] == "config.middleware.SyncChainMiddleware"
    status, hops = await thread_hops(monkeypatch)
    assert status == 200
    # request_started, the chain, two process_view methods and the view: not one per middleware method.
    assert hops <= 5


@pytest.mark.asyncio
async def test_without_it_every_middleware_method_hops(monkeypatch, settings):
    settings.MIDDLEWARE = settings.MIDDLEWARE[:-1]
    status, hops = await thread_hops(monkeypatch)
    assert status == 200
    assert hops > 10
