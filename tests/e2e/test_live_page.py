"""The live page in headless Chromium through the web front of `make run`
(nginx: the page and its API calls from granian, /ws/ from daphne, one origin): sign in, see a
transaction created through the API appear, drop the socket, create another,
reconnect and see it arrive through resume."""

import json
import shutil
import subprocess
import urllib.request

import pytest

from tests.accounts.factories import UserFactory
from tests.conftest import TEST_PASSWORD
from tests.e2e.servers import front

pytestmark = pytest.mark.django_db(transaction=True)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium():
    if not shutil.which(CHROMIUM):
        # make test installs it first; this covers a bare `pytest` run on a Debian machine.
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=False, capture_output=True)
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is required for the browser test: apt-get install -y chromium")
    return CHROMIUM


EXPIRED = json.dumps(
    {"type": "client_error", "errors": [{"code": "token_not_valid", "detail": "Token is expired", "attr": None}]}
)


def _post(url, body, token):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _api_token(base, email):
    request = urllib.request.Request(
        base + "/api/v1/auth/login",
        data=json.dumps({"email": email, "password": TEST_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["access"]


def test_live_page_shows_events_and_resumes_after_a_drop(chromium, settings):
    from playwright.sync_api import expect, sync_playwright

    # The test run hashes with MD5 for speed; the servers only know the project's hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = UserFactory(password=TEST_PASSWORD)
    with front(redis_url=settings.REDIS_URL) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "/live/")
            page.fill("#email", user.email)
            page.fill("#password", TEST_PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("#state")).to_have_attribute("data-state", "open", timeout=15000)

            token = _api_token(server.url, user.email)
            first = _post(
                server.url + "/api/v1/transactions",
                {"amount": "4.20", "date": "2026-01-05", "merchant_raw": "Corner Cafe"},
                token,
            )
            card = page.locator('article[data-type="transaction_update"]').first
            expect(card).to_contain_text(first["id"], timeout=15000)
            expect(card).to_contain_text("Corner Cafe")
            # The accounts card refreshes its balances on transaction_update.
            expect(page.locator("#accounts")).to_contain_text("Main USD", timeout=15000)
            expect(page.locator("#accounts")).to_contain_text("-4.20 USD")

            page.click("#drop")
            expect(page.locator("#state")).to_have_attribute("data-state", "closed", timeout=15000)
            missed = _post(
                server.url + "/api/v1/transactions",
                {"amount": "18.00", "date": "2026-01-06", "merchant_raw": "Night Bus"},
                token,
            )
            expect(page.locator("#events")).not_to_contain_text(missed["id"])

            page.click("#reconnect")
            expect(page.locator("#state")).to_have_attribute("data-state", "open", timeout=15000)
            expect(page.locator('article[data-type="resumed"]')).to_have_count(1, timeout=15000)
            expect(page.locator('article[data-type="transaction_update"]').first).to_contain_text(missed["id"])
            expect(page.locator('article[data-type="transaction_update"]')).to_have_count(2)

            # An access token that expired while the page was open: the next
            # ticket request is a 401, the page renews with its refresh token
            # (rotated) and reconnects instead of signing the user out.
            refused, renewals = [], []

            def expired_once(route):
                if refused:
                    return route.continue_()
                refused.append(route.request.headers.get("authorization"))
                route.fulfill(status=401, content_type="application/json", body=EXPIRED)

            page.route("**/api/v1/realtime/ticket", expired_once)
            page.on("response", lambda r: renewals.append(r.status) if r.url.endswith("/auth/refresh") else None)
            page.click("#drop")
            expect(page.locator("#state")).to_have_attribute("data-state", "closed", timeout=15000)
            page.click("#reconnect")
            expect(page.locator("#state")).to_have_attribute("data-state", "open", timeout=15000)
            assert len(refused) == 1 and renewals == [200]
            expect(page.locator("#login")).to_be_hidden()
        finally:
            browser.close()


def test_live_page_keeps_its_session_and_events_across_a_reload_and_signs_out(chromium, settings):
    from playwright.sync_api import expect, sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = UserFactory(password=TEST_PASSWORD)
    with front(redis_url=settings.REDIS_URL) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(server.url + "/live/")
            page.fill("#email", user.email)
            page.fill("#password", TEST_PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("#state")).to_have_attribute("data-state", "open", timeout=15000)
            token = _api_token(server.url, user.email)
            before = _post(
                server.url + "/api/v1/transactions",
                {"amount": "7.10", "date": "2026-01-05", "merchant": "Corner Cafe"},
                token,
            )
            expect(page.locator("#events")).to_contain_text(before["id"], timeout=15000)

            page.reload()
            expect(page.locator("#state")).to_have_attribute("data-state", "open", timeout=15000)
            expect(page.locator("#login")).to_be_hidden()
            expect(page.locator("#events")).to_contain_text(before["id"])  # the history stayed
            after = _post(
                server.url + "/api/v1/transactions",
                {"amount": "3.30", "date": "2026-01-06", "merchant_raw": "Night Bus"},
                token,
            )
            expect(page.locator("#events")).to_contain_text(after["id"], timeout=15000)
            expect(page.locator('article[data-type="transaction_update"]')).to_have_count(2)

            page.click("#signout")
            expect(page.locator("#login")).to_be_visible(timeout=15000)
            expect(page.locator("#state")).to_have_text("signed out")
            expect(page.locator("#events")).to_be_empty()
            page.reload()
            expect(page.locator("#login")).to_be_visible()
            expect(page.locator("#state")).not_to_have_attribute("data-state", "open")
            # Nothing of the session stays in the tab.
            assert page.evaluate("sessionStorage.length") == 0
        finally:
            browser.close()
