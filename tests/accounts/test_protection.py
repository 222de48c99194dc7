"""Login that resists credential stuffing: a per-account lockout next to the
per-IP limit (API and admin alike), failing closed without Redis, and
password reset limited per IP and per address."""

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.accounts.test_api import assert_error_shape
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def attempt(email, password="wrong-password", ip="198.51.100.1"):
    # Any server error is answered in the error shape, never raised into the test.
    return APIClient(raise_request_exception=False).post(
        "/api/v1/auth/login", {"email": email, "password": password}, format="json", REMOTE_ADDR=ip
    )


def lock_key_ttl(email):
    from accounts.throttling import _account_lock_key

    return redis.Redis.from_url(settings.REDIS_URL).ttl(_account_lock_key(email))


def test_thirty_addresses_guessing_one_account_lock_it_even_for_the_right_password(
    user, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [attempt(user.email, ip=f"198.51.100.{i}").status_code for i in range(30)]
    assert statuses == [401] * 10 + [429] * 20

    right = attempt(user.email, TEST_PASSWORD, ip="203.0.113.50")
    assert_error_shape(right, 429, "throttled")
    assert 0 < int(right["Retry-After"]) <= 15 * 60
    # the owner is told once, with what happened and for how long
    (notice,) = mailoutbox
    assert notice.to == [user.email]
    assert "10 times" in notice.body and "15 minutes" in notice.body


def test_the_lock_is_time_boxed(user):
    for i in range(10):
        attempt(user.email, ip=f"198.51.100.{i}")
    ttl = lock_key_ttl(user.email)
    assert 0 < ttl <= 15 * 60
    # more failures while locked do not extend it
    attempt(user.email, ip="198.51.100.99")
    assert lock_key_ttl(user.email) <= ttl
    # expire it the way Redis would, without sleeping
    from accounts.throttling import _account_lock_key

    redis.Redis.from_url(settings.REDIS_URL).delete(_account_lock_key(user.email))
    assert attempt(user.email, TEST_PASSWORD, ip="203.0.113.50").status_code == 200


def test_a_good_password_forgets_earlier_failures(user):
    for i in range(9):
        attempt(user.email, ip=f"198.51.100.{i}")
    assert attempt(user.email, TEST_PASSWORD, ip="203.0.113.50").status_code == 200
    assert [attempt(user.email, ip=f"192.0.2.{i}").status_code for i in range(9)] == [401] * 9


def test_an_unknown_address_locks_the_same_way_and_mails_nobody(mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [attempt("ghost@example.com", ip=f"198.51.100.{i}").status_code for i in range(11)]
    assert statuses == [401] * 10 + [429]
    assert mailoutbox == []


def test_a_password_reset_lifts_the_lock(user, mailoutbox, django_capture_on_commit_callbacks):
    from tests.accounts.test_api import mailed_uid_and_token

    for i in range(10):
        attempt(user.email, ip=f"198.51.100.{i}")
    with django_capture_on_commit_callbacks(execute=True):
        APIClient().post("/api/v1/auth/password/reset", {"email": user.email}, format="json")
    uid, token = mailed_uid_and_token(mailoutbox[-1])
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = APIClient().post(
            "/api/v1/auth/password/reset/confirm",
            {"uid": uid, "token": token, "new_password": "another-Long-passphrase-42"},
            format="json",
        )
    assert confirmed.status_code == 200
    assert attempt(user.email, "another-Long-passphrase-42", ip="203.0.113.50").status_code == 200


def test_login_fails_closed_with_503_when_redis_is_down(user, settings):
    settings.REDIS_URL = DEAD_REDIS
    response = attempt(user.email, TEST_PASSWORD)
    body = assert_error_shape(response, 503, "service_unavailable")
    assert body["type"] == "server_error"
    assert int(response["Retry-After"]) > 0


def test_the_fail_closed_503_is_not_reported_as_a_server_error(user, settings):
    import logging

    from django.core.signals import got_request_exception

    settings.REDIS_URL = DEAD_REDIS
    reported, logged = [], []
    capture = logging.Handler()
    capture.emit = logged.append
    request_log = logging.getLogger("django.request")  # errors only (config.logs)
    got_request_exception.connect(reported.append)
    request_log.addHandler(capture)
    try:
        # The test client re-raises whatever got_request_exception reports: a report would fail here.
        response = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": TEST_PASSWORD})
    finally:
        got_request_exception.disconnect(reported.append)
        request_log.removeHandler(capture)

    assert response.status_code == 503
    assert (reported, [r.levelname for r in logged]) == ([], [])


# --- the admin login --------------------------------------------------------


def admin_attempt(client, email, password="wrong-password", ip="198.51.100.1"):
    return client.post("/admin/login/?next=/admin/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def signed_in_to_admin(client):
    return client.get("/admin/").status_code == 200


def test_admin_login_shares_the_account_lockout(staff_user, client):
    for i in range(10):
        assert admin_attempt(client, staff_user.email, ip=f"198.51.100.{i}").status_code == 200  # form again

    right = admin_attempt(client, staff_user.email, TEST_PASSWORD, ip="203.0.113.50")

    assert right.status_code == 200
    assert "locked" in right.content.decode()
    assert not signed_in_to_admin(client)
    # the API login sees the same lock
    assert attempt(staff_user.email, TEST_PASSWORD, ip="203.0.113.51").status_code == 429


def test_admin_login_failures_count_toward_the_api_lock_and_back(staff_user, client):
    for i in range(5):
        attempt(staff_user.email, ip=f"198.51.100.{i}")
    for i in range(5):
        admin_attempt(client, staff_user.email, ip=f"192.0.2.{i}")
    assert attempt(staff_user.email, TEST_PASSWORD, ip="203.0.113.50").status_code == 429


def test_admin_login_is_limited_per_ip(staff_user, other_user, client):
    for _ in range(5):
        admin_attempt(client, other_user.email)
    refused = admin_attempt(client, staff_user.email, TEST_PASSWORD)
    assert "Too many failed sign-ins from this address" in refused.content.decode()
    assert not signed_in_to_admin(client)
    # the right password from elsewhere works
    assert admin_attempt(client, staff_user.email, TEST_PASSWORD, ip="203.0.113.50").status_code == 302
    assert signed_in_to_admin(client)


def test_admin_login_fails_closed_when_redis_is_down(staff_user, client, settings):
    settings.REDIS_URL = DEAD_REDIS
    response = admin_attempt(client, staff_user.email, TEST_PASSWORD)
    assert "unavailable" in response.content.decode()
    assert not signed_in_to_admin(client)


# --- password reset -----------------------------------------------------------


def reset(email, ip="198.51.100.1"):
    return APIClient(raise_request_exception=False).post(
        "/api/v1/auth/password/reset", {"email": email}, format="json", REMOTE_ADDR=ip
    )


def test_password_reset_is_limited_per_address_from_any_ip(user, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        statuses = [reset(user.email, ip=f"198.51.100.{i}").status_code for i in range(20)]
    assert statuses == [202] * 3 + [429] * 17
    assert len(mailoutbox) == 3
    response = reset(user.email.upper(), ip="203.0.113.9")
    assert_error_shape(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60 * 60


def test_password_reset_is_limited_per_ip_across_addresses(user):
    statuses = [reset(f"someone{i}@example.com").status_code for i in range(5)]
    assert statuses == [202] * 5
    assert reset(user.email).status_code == 429
    assert reset(user.email, ip="203.0.113.9").status_code == 202


def test_password_reset_limit_answers_the_same_for_unknown_addresses(user):
    known = [reset(user.email, ip=f"198.51.100.{i}").status_code for i in range(4)]
    unknown = [reset("ghost@example.com", ip=f"192.0.2.{i}").status_code for i in range(4)]
    assert known == unknown == [202, 202, 202, 429]


def test_password_reset_fails_closed_when_redis_is_down(user, settings, mailoutbox):
    settings.REDIS_URL = DEAD_REDIS
    response = reset(user.email)
    assert_error_shape(response, 503, "service_unavailable")
    assert mailoutbox == []
