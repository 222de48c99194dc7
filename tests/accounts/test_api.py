import base64
import json
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import Session, User
from tests.conftest import TEST_PASSWORD, login

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-Long-passphrase-42"


def assert_error_shape(response, status, code=None, attr=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"type", "errors"}
    assert body["type"] in {"validation_error", "client_error", "server_error"}
    assert body["errors"], body
    for error in body["errors"]:
        assert set(error) == {"code", "detail", "attr"}
    if code is not None:
        assert code in {error["code"] for error in body["errors"]}, body
    if attr is not None:
        assert attr in {error["attr"] for error in body["errors"]}, body
    return body


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def mailed_uid_and_token(message):
    uid = re.search(r"uid: (\S+)", message.body).group(1)
    token = re.search(r"token: (\S+)", message.body).group(1)
    return uid, token


def test_full_auth_story_register_login_refresh_logout_sessions(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    # given a new user registers
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/auth/register",
            {"email": "Ada@Example.com", "password": TEST_PASSWORD, "full_name": "Ada Lovelace"},
            format="json",
        )
    assert response.status_code == 202, response.content
    assert set(response.json()) == {"detail"}  # no tokens: the answer is the same for a taken address
    stored = User.objects.get(email="ada@example.com")
    assert stored.is_verified is False
    assert len(mailoutbox) == 1  # verification mail
    assert mailoutbox[0].to == ["ada@example.com"]

    # when they log in on a second device (case of the e-mail does not matter)
    tokens = api_client.post(
        "/api/v1/auth/login", {"email": "ADA@example.com", "password": TEST_PASSWORD}, format="json"
    ).json()
    me = api_client.get("/api/v1/auth/me", **bearer(tokens["access"]))
    assert me.status_code == 200
    assert me.json()["full_name"] == "Ada Lovelace"

    # refresh rotates (replaying the old token is tested below: it ends the session)
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    new_tokens = refreshed.json()
    assert new_tokens["refresh"] != tokens["refresh"]
    assert new_tokens["session_id"] == tokens["session_id"]

    # two sessions are listed: this login's and another device's
    login(api_client, stored)
    sessions = api_client.get("/api/v1/auth/sessions", **bearer(new_tokens["access"])).json()
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1

    # logout kills the refresh token and the session's access tokens
    assert (
        api_client.post(
            "/api/v1/auth/logout", {"refresh": new_tokens["refresh"]}, format="json", **bearer(new_tokens["access"])
        ).status_code
        == 204
    )
    assert_error_shape(
        api_client.post("/api/v1/auth/refresh", {"refresh": new_tokens["refresh"]}, format="json"),
        401,
        "token_not_valid",
    )
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(new_tokens["access"])), 401)


def test_revoking_a_session_ends_that_device_only(user, api_client):
    phone = login(api_client, user, HTTP_USER_AGENT="phone")
    laptop = login(api_client, user, HTTP_USER_AGENT="laptop")

    response = api_client.delete(f"/api/v1/auth/sessions/{phone['session_id']}", **bearer(laptop["access"]))

    assert response.status_code == 204
    assert Session.objects.get(id=phone["session_id"]).revoked_at is not None
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(phone["access"])), 401, "session_revoked")
    assert_error_shape(api_client.post("/api/v1/auth/refresh", {"refresh": phone["refresh"]}, format="json"), 401)
    assert api_client.get("/api/v1/auth/me", **bearer(laptop["access"])).status_code == 200


def test_another_users_session_is_404(user, other_user, api_client):
    mine = login(api_client, user)
    theirs = login(api_client, other_user)

    response = api_client.delete(f"/api/v1/auth/sessions/{theirs['session_id']}", **bearer(mine["access"]))

    assert_error_shape(response, 404)
    assert Session.objects.get(id=theirs["session_id"]).revoked_at is None


def test_concurrent_refresh_with_one_token_yields_one_new_pair(user, api_client):
    tokens = login(api_client, user)
    first = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    second = api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert [first.status_code, second.status_code] == [200, 401]


def test_replaying_a_rotated_refresh_token_revokes_the_whole_session(user, api_client):
    stolen = login(api_client, user)
    other_device = login(api_client, user)
    # the thief (or the owner) rotates first; the newer pair works
    newer = api_client.post("/api/v1/auth/refresh", {"refresh": stolen["refresh"]}, format="json").json()
    assert api_client.get("/api/v1/auth/me", **bearer(newer["access"])).status_code == 200

    replay = api_client.post("/api/v1/auth/refresh", {"refresh": stolen["refresh"]}, format="json")

    assert_error_shape(replay, 401, "token_not_valid")
    assert Session.objects.get(id=stolen["session_id"]).revoked_at is not None
    # every token of that session is dead now: the newer refresh and both access tokens
    assert_error_shape(api_client.post("/api/v1/auth/refresh", {"refresh": newer["refresh"]}, format="json"), 401)
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(newer["access"])), 401, "session_revoked")
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(stolen["access"])), 401, "session_revoked")
    # another session of the same user is untouched
    assert api_client.get("/api/v1/auth/me", **bearer(other_device["access"])).status_code == 200
    assert (
        api_client.post("/api/v1/auth/refresh", {"refresh": other_device["refresh"]}, format="json").status_code == 200
    )


def test_a_logged_out_refresh_token_is_401_and_revokes_nothing_else(user, api_client):
    tokens = login(api_client, user)
    api_client.post("/api/v1/auth/logout", {"refresh": tokens["refresh"]}, format="json", **bearer(tokens["access"]))
    assert_error_shape(
        api_client.post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json"), 401, "token_not_valid"
    )


def test_patch_me_updates_profile_and_merges_preferences(auth_client):
    response = auth_client.patch(
        "/api/v1/auth/me",
        {"full_name": "New Name", "preferences": {"currency": "EUR", "notifications": {"email": False}}},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["full_name"] == "New Name"
    assert body["preferences"]["currency"] == "EUR"
    assert body["preferences"]["notifications"] == {
        "email": False,
        "push": True,
        "weekly_summary": True,
        "monthly_report": True,
    }


def test_changing_email_needs_the_password_and_keeps_the_old_address_until_verified(
    auth_client, user, api_client, mailoutbox, django_capture_on_commit_callbacks
):
    old_email = user.email
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(
            "/api/v1/auth/me", {"email": "New@Example.org", "current_password": TEST_PASSWORD}, format="json"
        )
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == old_email
    assert body["pending_email"] == "new@example.org"
    assert body["is_verified"] is True
    # the old address is told, the new one gets the link
    notice, link = mailoutbox
    assert notice.to == [old_email] and "new@example.org" in notice.body
    assert link.to == ["new@example.org"]

    # until verified, the old address is the account's: login and reset go there
    login(api_client, user)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        api_client.post("/api/v1/auth/password/reset", {"email": "new@example.org"}, format="json")
    assert mailoutbox == []

    uid, token = mailed_uid_and_token(link)
    confirmed = APIClient().post("/api/v1/auth/verify-email/confirm", {"uid": uid, "token": token}, format="json")
    assert confirmed.status_code == 200
    assert confirmed.json()["email"] == "new@example.org"
    assert confirmed.json()["pending_email"] == ""
    assert confirmed.json()["is_verified"] is True
    stored = User.objects.get(pk=user.pk)
    assert (stored.email, stored.pending_email) == ("new@example.org", "")
    # the link works once
    assert_error_shape(
        APIClient().post("/api/v1/auth/verify-email/confirm", {"uid": uid, "token": token}, format="json"),
        400,
        "invalid_token",
    )


@pytest.mark.parametrize(
    "password, code", [(None, "required"), ("wrong-password-1", "wrong_password")], ids=["missing", "wrong"]
)
def test_changing_email_without_the_right_password_is_400_and_changes_nothing(
    auth_client, user, mailoutbox, django_capture_on_commit_callbacks, password, code
):
    payload = {"email": "thief@example.org", **({"current_password": password} if password else {})}
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch("/api/v1/auth/me", payload, format="json")
    assert_error_shape(response, 400, code, "current_password")
    stored = User.objects.get(pk=user.pk)
    assert (stored.email, stored.pending_email) == (user.email, "")
    assert mailoutbox == []


def test_changing_email_to_a_taken_address_answers_the_same_and_tells_its_owner(
    auth_client, user, other_user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        taken = auth_client.patch(
            "/api/v1/auth/me", {"email": other_user.email.upper(), "current_password": TEST_PASSWORD}, format="json"
        )
    assert taken.status_code == 200
    assert taken.json()["pending_email"] == other_user.email
    notice, owner_mail = mailoutbox
    assert notice.to == [user.email]
    # the owner hears of it; no link exists that could take the address
    assert owner_mail.to == [other_user.email]
    assert "uid:" not in owner_mail.body
    assert User.objects.get(pk=other_user.pk).email == other_user.email

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        free = auth_client.patch(
            "/api/v1/auth/me", {"email": "free@example.org", "current_password": TEST_PASSWORD}, format="json"
        )
    assert free.status_code == taken.status_code
    assert set(free.json()) == set(taken.json())


def test_setting_the_email_back_cancels_the_pending_change(auth_client, user):
    auth_client.patch("/api/v1/auth/me", {"email": "new@example.org", "current_password": TEST_PASSWORD}, format="json")
    response = auth_client.patch("/api/v1/auth/me", {"email": user.email}, format="json")
    assert response.status_code == 200
    assert response.json()["pending_email"] == ""
    assert User.objects.get(pk=user.pk).pending_email == ""


def test_patch_me_rejects_bad_preferences(auth_client):
    body = assert_error_shape(
        auth_client.patch("/api/v1/auth/me", {"preferences": {"currency": "euro", "theme": "neon"}}, format="json"), 400
    )
    assert {e["attr"] for e in body["errors"]} == {"preferences.currency", "preferences.theme"}


def test_email_verification_request_and_confirm(api_client, mailoutbox, django_capture_on_commit_callbacks):
    api_client.post("/api/v1/auth/register", {"email": "v@example.com", "password": TEST_PASSWORD}, format="json")
    signed_in = login(api_client, User.objects.get(email="v@example.com"))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert api_client.post("/api/v1/auth/verify-email", **bearer(signed_in["access"])).status_code == 202
    uid, token = mailed_uid_and_token(mailoutbox[0])
    assert (
        api_client.post("/api/v1/auth/verify-email/confirm", {"uid": uid, "token": token}, format="json").status_code
        == 200
    )

    assert User.objects.get(email="v@example.com").is_verified is True


def test_password_change_ends_other_sessions_and_keeps_this_one(user, api_client):
    this_device = login(api_client, user)
    other_device = login(api_client, user)

    response = api_client.post(
        "/api/v1/auth/password/change",
        {"old_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
        format="json",
        **bearer(this_device["access"]),
    )

    assert response.status_code == 200
    assert api_client.get("/api/v1/auth/me", **bearer(this_device["access"])).status_code == 200
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(other_device["access"])), 401)
    login(api_client, user, password=NEW_PASSWORD)


def test_password_change_with_wrong_old_password_is_400(auth_client):
    assert_error_shape(
        auth_client.post(
            "/api/v1/auth/password/change",
            {"old_password": "nope-nope-nope", "new_password": NEW_PASSWORD},
            format="json",
        ),
        400,
        "wrong_password",
        "old_password",
    )


def test_password_reset_through_mail_outbox_ends_all_sessions(
    user, api_client, mailoutbox, django_capture_on_commit_callbacks
):
    old = login(api_client, user)

    with django_capture_on_commit_callbacks(execute=True):
        requested = api_client.post("/api/v1/auth/password/reset", {"email": user.email.upper()}, format="json")
    assert requested.status_code == 202
    uid, token = mailed_uid_and_token(mailoutbox[0])
    confirmed = api_client.post(
        "/api/v1/auth/password/reset/confirm", {"uid": uid, "token": token, "new_password": NEW_PASSWORD}, format="json"
    )

    assert confirmed.status_code == 200
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(old["access"])), 401)
    login(api_client, user, password=NEW_PASSWORD)
    # the token is single-use: the password hash it was bound to changed
    assert_error_shape(
        api_client.post(
            "/api/v1/auth/password/reset/confirm",
            {"uid": uid, "token": token, "new_password": "Yet-another-pass-7"},
            format="json",
        ),
        400,
        "invalid_token",
    )


def test_password_reset_for_unknown_email_answers_the_same_and_sends_nothing(
    api_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post("/api/v1/auth/password/reset", {"email": "ghost@example.com"}, format="json")
    assert response.status_code == 202
    assert mailoutbox == []


# --- login throttle -------------------------------------------------------


def failed_login(client, email="someone@example.com", **extra):
    return client.post("/api/v1/auth/login", {"email": email, "password": "wrong-password"}, format="json", **extra)


def test_sixth_failed_login_from_one_ip_is_429_with_retry_after(user, api_client):
    statuses = [failed_login(api_client, user.email).status_code for _ in range(5)]
    assert statuses == [401] * 5

    sixth = failed_login(api_client, user.email)
    assert_error_shape(sixth, 429, "throttled")
    assert 0 < int(sixth["Retry-After"]) <= 15 * 60
    # even the right password waits now
    right = api_client.post("/api/v1/auth/login", {"email": user.email, "password": TEST_PASSWORD}, format="json")
    assert right.status_code == 429


def test_successful_logins_do_not_count_as_failures(user, api_client):
    for _ in range(8):
        login(api_client, user)
    assert [failed_login(api_client).status_code for _ in range(6)] == [401] * 5 + [429]


def test_throttle_window_expires(user, api_client, settings):
    settings.LOGIN_THROTTLE = {"MAX_FAILURES": 2, "WINDOW_SECONDS": 1}
    assert [failed_login(api_client).status_code for _ in range(3)] == [401, 401, 429]
    from config.redis import get_redis

    # expire the window the way Redis would, without sleeping
    get_redis().delete("tally:login-failures:127.0.0.1")
    assert failed_login(api_client).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_fifty_parallel_failed_logins_let_exactly_five_through(user):
    def attempt(_):
        try:
            return failed_login(APIClient(), user.email).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(50)))

    assert statuses.count(401) == 5
    assert statuses.count(429) == 45


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_good_logins_from_one_address_is_never_locked_out(user):
    """More parallel good logins than the failure limit: the surplus is told
    to retry in a second (429, Retry-After 1) while the others are in flight,
    every one gets in on a retry, and no failure is left on the address."""
    first_statuses = []

    def attempt(_):
        try:
            for tries in range(500):
                response = APIClient().post(
                    "/api/v1/auth/login", {"email": user.email, "password": TEST_PASSWORD}, format="json"
                )
                if tries == 0:
                    first_statuses.append(response.status_code)
                if response.status_code != 429:
                    return response.status_code
                assert response["Retry-After"] == "1"
            return 429
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(attempt, range(20)))

    assert statuses == [200] * 20
    assert set(first_statuses) <= {200, 429}
    # Nothing counted against the address: five wrong passwords still get their 401s.
    assert [failed_login(APIClient(), user.email).status_code for _ in range(6)] == [401] * 5 + [429]


def test_bad_input_and_wrong_passwords_are_told_apart(user, api_client):
    """Malformed requests are 400s, not failed logins: five of them do not lock the address out."""
    for _ in range(6):
        response = api_client.post("/api/v1/auth/login", "{not json", content_type="application/json")
        assert response.status_code == 400
    good = api_client.post("/api/v1/auth/login", {"email": user.email, "password": TEST_PASSWORD}, format="json")
    assert good.status_code == 200


def test_ipv6_clients_are_limited_per_64(api_client):
    statuses = [failed_login(api_client, REMOTE_ADDR=f"2001:db8:1:2::{i:x}").status_code for i in range(6)]
    assert statuses == [401] * 5 + [429]
    # another /64 has its own count
    assert failed_login(api_client, REMOTE_ADDR="2001:db8:1:3::1").status_code == 401


def test_procfile_compose_and_image_do_not_trust_forwarded_headers():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for name in ("Procfile", "compose.yaml", "Dockerfile"):
        assert "--proxy-headers" not in (root / name).read_text(), name


def test_spoofed_forwarded_for_does_not_reset_the_limit(api_client, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    proxy = {"REMOTE_ADDR": "10.0.0.1"}

    statuses = [
        failed_login(api_client, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.5", **proxy).status_code
        for i in range(6)
    ]

    assert statuses == [401] * 5 + [429]
    # another client behind the same proxy is not blocked
    assert failed_login(api_client, HTTP_X_FORWARDED_FOR="203.0.113.99", **proxy).status_code == 401


def test_forwarded_for_from_an_untrusted_peer_is_ignored(api_client, settings):
    settings.TRUSTED_PROXIES = []
    statuses = [
        failed_login(api_client, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}", REMOTE_ADDR="192.0.2.7").status_code
        for i in range(6)
    ]
    assert statuses == [401] * 5 + [429]
    assert failed_login(api_client, REMOTE_ADDR="192.0.2.8").status_code == 401


# --- bad input --------------------------------------------------------------


def test_malformed_json_is_400_parse_error(api_client):
    response = api_client.post("/api/v1/auth/register", data="{not json", content_type="application/json")
    assert_error_shape(response, 400, "parse_error")


@pytest.mark.parametrize(
    "payload, attr",
    [
        ({"password": TEST_PASSWORD}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "not-an-email", "password": TEST_PASSWORD}, "email"),
        ({"email": "a@example.com", "password": "short"}, "password"),
        ({"email": "a@example.com", "password": "12345678901"}, "password"),
    ],
)
def test_register_bad_input_is_400_naming_the_field(api_client, payload, attr):
    assert_error_shape(api_client.post("/api/v1/auth/register", payload, format="json"), 400, attr=attr)
    assert not User.objects.exists()


def test_register_for_a_taken_address_answers_like_a_new_one_and_mails_the_owner(
    user, api_client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        taken = api_client.post(
            "/api/v1/auth/register", {"email": user.email.upper(), "password": NEW_PASSWORD}, format="json"
        )
    assert User.objects.count() == 1
    assert User.objects.get(pk=user.pk).check_password(TEST_PASSWORD)  # nothing about the owner changed
    (owner_mail,) = mailoutbox
    assert owner_mail.to == [user.email]
    assert "already has one" in owner_mail.body

    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        new = api_client.post(
            "/api/v1/auth/register", {"email": "fresh@example.com", "password": NEW_PASSWORD}, format="json"
        )
    assert (taken.status_code, taken.json()) == (new.status_code, new.json()) == (202, new.json())
    assert set(new.json()) == {"detail"}
    assert mailoutbox[0].to == ["fresh@example.com"]


def test_register_for_a_taken_address_still_checks_the_password_rules(user, api_client):
    response = api_client.post("/api/v1/auth/register", {"email": user.email, "password": "12345678901"}, format="json")
    assert_error_shape(response, 400, attr="password")


def test_unauthenticated_me_is_401(api_client):
    assert_error_shape(api_client.get("/api/v1/auth/me"), 401, "not_authenticated")


def test_tampered_token_is_401(auth_client, api_client):
    header, payload, signature = auth_client.tokens["access"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["user_id"] = "00000000-0000-0000-0000-000000000000"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(f"{header}.{forged}.{signature}")), 401)


def test_alg_none_token_is_401(auth_client, api_client):
    _, payload, _ = auth_client.tokens["access"].split(".")
    header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=")
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(f"{header}.{payload}.")), 401)


def test_expired_access_token_is_401_token_expired(auth_client, api_client):
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        body = assert_error_shape(
            api_client.get("/api/v1/auth/me", **bearer(auth_client.tokens["access"])), 401, "token_expired"
        )
    assert body["errors"][0]["detail"] == "Token is expired; refresh it."


def test_a_token_accepted_before_is_refused_once_it_expires(auth_client, api_client):
    token = auth_client.tokens["access"]
    assert api_client.get("/api/v1/auth/me", **bearer(token)).status_code == 200  # verified and kept
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(token)), 401, "token_expired")


def test_a_token_accepted_before_is_refused_once_its_session_is_revoked(auth_client, api_client):
    token = auth_client.tokens["access"]
    assert api_client.get("/api/v1/auth/me", **bearer(token)).status_code == 200
    logout = auth_client.post("/api/v1/auth/logout", {"refresh": auth_client.tokens["refresh"]}, format="json")
    assert logout.status_code in (200, 204)
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(token)), 401, "session_revoked")


def test_a_garbage_or_forged_token_is_token_not_valid_not_expired(auth_client, api_client):
    head, payload, _ = auth_client.tokens["access"].split(".")
    for token in ("garbage", f"{head}.{payload}.forged-signature"):
        assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(token)), 401, "token_not_valid")
    # An expired token with a forged signature is invalid, not expired.
    with time_machine.travel(timezone.now() + timedelta(minutes=61), tick=False):
        assert_error_shape(
            api_client.get("/api/v1/auth/me", **bearer(f"{head}.{payload}.forged-signature")), 401, "token_not_valid"
        )


def test_refresh_token_used_as_access_token_is_401(auth_client, api_client):
    assert_error_shape(
        api_client.get("/api/v1/auth/me", **bearer(auth_client.tokens["refresh"])), 401, "token_not_valid"
    )


def test_access_token_used_as_refresh_token_is_401(auth_client, api_client):
    response = api_client.post("/api/v1/auth/refresh", {"refresh": auth_client.tokens["access"]}, format="json")
    assert_error_shape(response, 401, "token_not_valid")


def test_access_token_of_a_deactivated_user_is_401(auth_client, user, api_client):
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert_error_shape(api_client.get("/api/v1/auth/me", **bearer(auth_client.tokens["access"])), 401)


def test_access_token_lifetime_comes_from_settings(auth_client):
    token = AccessToken(auth_client.tokens["access"])
    # simplejwt stamps the access token's iat and its exp from two clock reads
    # (the refresh token's and its own), which may straddle a second.
    assert 60 * 60 - 1 <= token["exp"] - token["iat"] <= 60 * 60
