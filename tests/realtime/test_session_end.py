"""A socket lives only as long as its session: logout, revocation and a
password change close it (4401) through the real Redis channel layer, and an
ended session cannot resume history."""

import pytest
from channels.db import database_sync_to_async
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import Session
from accounts.services import session_revoke, session_start
from realtime.services import notify
from tests.conftest import TEST_PASSWORD
from tests.realtime.conftest import communicator, receive_type, send

pytestmark = pytest.mark.django_db(transaction=True)

SESSION_ENDED = {"type": "websocket.close", "code": 4401}


@database_sync_to_async
def start(user):
    return session_start(user=user)


async def open_socket(access):
    comm = communicator(f"/ws/?token={access}")
    ok, _ = await comm.connect(timeout=5)
    assert ok
    await receive_type(comm, "connected")
    return comm


def api(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


async def test_revoking_the_session_closes_its_socket_with_4401(make_user):
    user = await make_user()
    pair = await start(user)
    comm = await open_socket(pair.access)

    await database_sync_to_async(session_revoke)(session=pair.session)

    assert await comm.receive_output(timeout=5) == SESSION_ENDED


async def test_logout_closes_the_sessions_socket_and_no_other(make_user):
    user = await make_user()
    phone, laptop = await start(user), await start(user)
    phone_socket, laptop_socket = await open_socket(phone.access), await open_socket(laptop.access)

    response = await database_sync_to_async(api(phone.access).post)(
        "/api/v1/auth/logout", {"refresh": phone.refresh}, format="json"
    )

    assert response.status_code == 204
    assert await phone_socket.receive_output(timeout=5) == SESSION_ENDED
    # the laptop's socket is still open and answering
    await send(laptop_socket, "ping")
    await receive_type(laptop_socket, "pong")
    await laptop_socket.disconnect()


async def test_password_change_closes_the_other_sessions_sockets(make_user):
    user = await make_user(password=TEST_PASSWORD)
    this_device, other_device = await start(user), await start(user)
    this_socket, other_socket = await open_socket(this_device.access), await open_socket(other_device.access)

    response = await database_sync_to_async(api(this_device.access).post)(
        "/api/v1/auth/password/change",
        {"old_password": TEST_PASSWORD, "new_password": "another-Long-passphrase-42"},
        format="json",
    )

    assert response.status_code == 200
    assert await other_socket.receive_output(timeout=5) == SESSION_ENDED
    await send(this_socket, "ping")
    await receive_type(this_socket, "pong")
    await this_socket.disconnect()


async def test_revoked_session_no_longer_gets_live_events(make_user):
    user = await make_user()
    pair = await start(user)
    comm = await open_socket(pair.access)
    await database_sync_to_async(session_revoke)(session=pair.session)
    assert await comm.receive_output(timeout=5) == SESSION_ENDED

    @database_sync_to_async
    def notify_committed():
        with transaction.atomic():
            notify(user.pk, "budget_alert", {"level": "warning"})

    await notify_committed()
    assert await comm.receive_nothing(timeout=0.3)


async def test_resume_is_refused_for_an_ended_session_even_if_the_close_was_lost(make_user):
    user = await make_user()
    pair = await start(user)

    @database_sync_to_async
    def history_then_end_session_silently():
        with transaction.atomic():
            notify(user.pk, "budget_alert", {"level": "warning"})
        # Ended without the signal (as if Redis dropped the close message).
        Session.objects.filter(pk=pair.session.pk).update(revoked_at=pair.session.created_at)

    comm = await open_socket(pair.access)
    await history_then_end_session_silently()
    await receive_type(comm, "budget_alert")  # it was live while the session lived

    await send(comm, "resume", {"last_message_id": 0})

    error = await receive_type(comm, "error")
    assert error["data"]["code"] == "session_ended"
    assert await comm.receive_output(timeout=5) == SESSION_ENDED
