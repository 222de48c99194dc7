"""Tickets, origins and keeping credentials out of logs."""

import logging

import pytest
import time_machine
from channels.db import database_sync_to_async

from accounts.services import session_revoke, session_start
from realtime.logging import RedactTokensFilter, redact
from realtime.services import ticket_issue
from tests.realtime.conftest import assert_refused, communicator, receive_type

pytestmark = pytest.mark.django_db(transaction=True)


@database_sync_to_async
def new_ticket(user):
    pair = session_start(user=user)
    return ticket_issue(user_id=user.pk, session_id=pair.session.id), pair.session


async def test_ticket_connects_once(make_user):
    user = await make_user()
    ticket, _ = await new_ticket(user)
    comm = communicator(f"/ws/?ticket={ticket}")
    assert (await comm.connect(timeout=5))[0]
    assert (await receive_type(comm, "connected"))["data"]["user_id"] == str(user.pk)
    await comm.disconnect()
    await assert_refused(f"/ws/?ticket={ticket}")


async def test_unknown_ticket_is_refused(make_user):
    await assert_refused("/ws/?ticket=made-up")


async def test_ticket_of_a_revoked_session_is_refused(make_user):
    ticket, session = await new_ticket(await make_user())
    await database_sync_to_async(session_revoke)(session=session)
    await assert_refused(f"/ws/?ticket={ticket}")


async def test_ticket_expires_after_30_seconds(make_user):
    from config.redis import get_redis
    from realtime.services import _ticket_key

    ticket, _ = await new_ticket(await make_user())
    ttl = await database_sync_to_async(get_redis().ttl)(_ticket_key(ticket))
    assert 0 < ttl <= 30


async def test_ticket_from_the_api_opens_a_socket(make_user, token_for):
    from rest_framework.test import APIClient

    user = await make_user()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {await token_for(user)}")
    response = await database_sync_to_async(client.post)("/api/v1/realtime/ticket")
    comm = communicator(f"/ws/?ticket={response.json()['ticket']}")
    assert (await comm.connect(timeout=5))[0]
    await receive_type(comm, "connected")
    await comm.disconnect()


async def test_foreign_browser_origin_is_rejected_but_own_origin_works(make_user, token_for):
    token = await token_for(await make_user())
    foreign = communicator(f"/ws/?token={token}", headers=[(b"origin", b"https://evil.example")])
    assert (await foreign.connect(timeout=5))[0] is False
    own = communicator(f"/ws/?token={token}", headers=[(b"origin", b"http://localhost:8000")])
    assert (await own.connect(timeout=5))[0]
    await receive_type(own, "connected")
    await own.disconnect()


def test_access_token_expiring_later_still_refused_after_expiry(db, user):
    """Uses simplejwt's own clock: a token past its exp is refused by the middleware's check."""
    from realtime.middleware import user_from_token

    access = session_start(user=user).access
    assert user_from_token(access) == user
    with time_machine.travel("2100-01-01"):
        assert user_from_token(access) is None


def test_alg_none_token_is_refused(db, user):
    import base64
    import json

    from rest_framework_simplejwt.tokens import AccessToken

    from realtime.middleware import user_from_token

    claims = dict(AccessToken(session_start(user=user).access).payload)

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    assert user_from_token(f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}.") is None


def test_redact_blanks_token_and_ticket_values():
    line = '127.0.0.1:5 - - [x] "GET /ws/?token=eyJ.abc.def&x=1" 404 - and /ws/?ticket=T0k3n'
    assert redact(line) == '127.0.0.1:5 - - [x] "GET /ws/?token=[redacted]&x=1" 404 - and /ws/?ticket=[redacted]'


def test_logging_filter_redacts_formatted_messages():
    record = logging.LogRecord(
        "django.channels.server", logging.INFO, __file__, 1, "HTTP %s %s", ("GET", "/ws/?ticket=abc"), None
    )
    assert RedactTokensFilter().filter(record)
    assert record.getMessage() == "HTTP GET /ws/?ticket=[redacted]"
