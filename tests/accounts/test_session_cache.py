"""The per-request session check answered from the cache: no session query
when warm, and every way a session ends refuses its access token on the very
next request while the cache is warm."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import session_cache
from accounts.models import Session, User
from tests.conftest import TEST_PASSWORD, login, point_redis_at
from tests.redis_server import free_port

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-Long-passphrase-42"


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def me(client, tokens):
    return client.get("/api/v1/auth/me", **bearer(tokens["access"]))


def session_queries(client, tokens):
    with CaptureQueriesContext(connection) as captured:
        response = me(client, tokens)
    assert response.status_code == 200, response.content
    return [q["sql"] for q in captured.captured_queries if "accounts_session" in q["sql"]]


def warm(client, tokens):
    assert me(client, tokens).status_code == 200
    assert cache.get(session_cache.session_key(tokens["session_id"])) not in (None, session_cache.ENDED)


def assert_refused(response):
    assert response.status_code == 401, response.content
    assert "session_revoked" in {error["code"] for error in response.json()["errors"]}


def test_a_warm_session_is_checked_without_a_session_query(user, api_client):
    tokens = login(api_client, user)

    assert len(session_queries(api_client, tokens)) == 1  # cold: the database answers and fills the cache
    assert session_queries(api_client, tokens) == []
    assert me(api_client, tokens).json()["email"] == user.email


def test_logout_refuses_the_access_token_on_the_next_request_with_the_cache_warm(user, api_client):
    tokens = login(api_client, user)
    warm(api_client, tokens)

    response = api_client.post(
        "/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json", **bearer(tokens["access"])
    )

    assert response.status_code in (200, 204), response.content
    assert_refused(me(api_client, tokens))


def test_revoking_from_another_device_refuses_on_the_next_request_with_the_cache_warm(user, api_client):
    phone, laptop = login(api_client, user), login(api_client, user)
    warm(api_client, phone)

    assert (
        api_client.delete(f"/api/v1/auth/sessions/{phone['session_id']}", **bearer(laptop["access"])).status_code == 204
    )

    assert_refused(me(api_client, phone))
    assert me(api_client, laptop).status_code == 200


def test_password_change_refuses_the_other_sessions_with_the_cache_warm(user, api_client):
    this_device, other_device = login(api_client, user), login(api_client, user)
    warm(api_client, this_device)
    warm(api_client, other_device)

    response = api_client.post(
        "/api/v1/auth/password/change",
        {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(this_device["access"]),
    )

    assert response.status_code == 200, response.content
    assert_refused(me(api_client, other_device))
    assert me(api_client, this_device).status_code == 200


def test_refresh_reuse_refuses_the_session_with_the_cache_warm(user, api_client):
    stolen = login(api_client, user)
    newer = api_client.post("/api/v1/auth/refresh", {"refresh": stolen["refresh"]}, format="json").json()
    warm(api_client, newer)

    assert api_client.post("/api/v1/auth/refresh", {"refresh": stolen["refresh"]}, format="json").status_code == 401

    assert_refused(me(api_client, newer))


def test_a_reader_filling_the_cache_from_the_old_row_cannot_revive_an_ended_session(user, api_client):
    tokens = login(api_client, user)
    session = Session.objects.select_related("user").get(id=tokens["session_id"])  # read before the revocation
    assert me(api_client, tokens).status_code == 200
    api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json", **bearer(tokens["access"]))

    session_cache.remember(session=session, now=session.created_at)  # the late reader's fill

    assert_refused(me(api_client, tokens))


def test_a_deactivated_user_is_refused_on_the_next_request_with_the_cache_warm(user, api_client):
    tokens = login(api_client, user)
    warm(api_client, tokens)

    user.is_active = False
    user.save(update_fields=["is_active"])

    response = me(api_client, tokens)
    assert response.status_code == 401, response.content


def test_a_profile_change_is_seen_on_the_next_request_with_the_cache_warm(user, api_client):
    tokens = login(api_client, user)
    warm(api_client, tokens)

    fresh = User.objects.get(pk=user.pk)
    fresh.full_name = "Renamed Person"
    fresh.save()

    assert me(api_client, tokens).json()["full_name"] == "Renamed Person"


def test_with_redis_down_the_check_falls_back_to_the_database(user, api_client, settings):
    tokens = login(api_client, user)  # sign-in itself needs Redis (login protection)
    point_redis_at(settings, f"redis://127.0.0.1:{free_port()}/0")

    assert len(session_queries(api_client, tokens)) == 1
    assert len(session_queries(api_client, tokens)) == 1  # nothing cached, still answered
    api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json", **bearer(tokens["access"]))
    assert_refused(me(api_client, tokens))


def test_a_session_revoked_while_redis_was_down_stays_refused_when_it_is_back(user, api_client, throwaway_redis):
    phone, laptop = login(api_client, user), login(api_client, user)
    warm(api_client, phone)
    throwaway_redis.stop()

    assert (
        api_client.delete(f"/api/v1/auth/sessions/{phone['session_id']}", **bearer(laptop["access"])).status_code == 204
    )
    assert_refused(me(api_client, phone))

    throwaway_redis.start()
    assert_refused(me(api_client, phone))
    assert me(api_client, laptop).status_code == 200
