"""The live page as a dashboard in headless Chromium against a real daphne:
signed in with seeded data it draws the accounts, the budget bars, the
spending-by-category doughnut and the 12-month net-worth line (the canvases
hold pixels), and a transaction created through the API moves its budget's
bar. A full-page screenshot is kept in test-artifacts/ (gitignored)."""

import calendar
import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from budgets.models import Budget
from tests.accounts.factories import UserFactory
from tests.conftest import TEST_PASSWORD
from tests.e2e.servers import daphne
from tests.e2e.test_live_page import CHROMIUM_ARGS, _api_token, _post, chromium  # noqa: F401 - the fixture
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db(transaction=True)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# True once the canvas has a pixel that is not fully transparent: Chart.js drew on it.
CANVAS_DRAWN = """(id) => {
  const canvas = document.getElementById(id);
  if (!canvas || !canvas.width || !canvas.height) return false;
  const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
  for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha] !== 0) return true;
  return false;
}"""


def _months_ago(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


def _seed(user, today):
    checking = AccountFactory(
        user=user,
        name="Everyday",
        is_default=True,
        opening_balance=Decimal("2500.00"),
        opening_date=_months_ago(today, 12),
    )
    AccountFactory(user=user, name="Visa", kind="credit_card")
    for months in range(11, 0, -1):
        month = _months_ago(today, months)
        TransactionFactory(user=user, account=checking, amount=Decimal("-1800.00"), date=month, category="Income")
        TransactionFactory(
            user=user,
            account=checking,
            amount=Decimal(1200 + 40 * months),
            date=month.replace(day=2),
            category="Housing",
        )
    first = today.replace(day=1)
    for amount, category in [("50.00", "Groceries"), ("32.50", "Food & Dining"), ("20.00", "Transport")]:
        TransactionFactory(user=user, account=checking, amount=Decimal(amount), date=first, category=category)
    end = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    Budget.objects.create(user=user, category="Groceries", amount=Decimal("200.00"), start_date=first, end_date=end)
    Budget.objects.create(user=user, category="Transport", amount=Decimal("100.00"), start_date=first, end_date=end)


def test_dashboard_draws_the_charts_and_a_new_transaction_moves_its_budget_bar(chromium, settings):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user = UserFactory(password=TEST_PASSWORD)
    today = datetime.date.today()
    _seed(user, today)
    with daphne(redis_url=settings.REDIS_URL) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            violations = []
            page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
            page.goto(server.url + "/live/")
            page.fill("#email", user.email)
            page.fill("#password", TEST_PASSWORD)
            page.click("button[type=submit]")
            expect(page.locator("#state")).to_have_attribute("data-state", "open", timeout=15000)
            expect(page.locator("#dashboard")).not_to_have_attribute("data-loaded", "0", timeout=15000)

            expect(page.locator("#accounts")).to_contain_text("Everyday")
            expect(page.locator("#accounts")).to_contain_text("Visa")
            groceries = page.locator('#budget-rows [data-category="Groceries"]')
            expect(groceries).to_have_attribute("data-percentage", "25.0")
            expect(groceries).to_contain_text("50.00 of 200.00 USD")
            transport = page.locator('#budget-rows [data-category="Transport"]')
            expect(transport).to_have_attribute("data-percentage", "20.0")
            page.wait_for_function(CANVAS_DRAWN, arg="spending-chart", timeout=15000)
            page.wait_for_function(CANVAS_DRAWN, arg="networth-chart", timeout=15000)
            # Three categories this month; twelve points of net worth.
            assert page.evaluate("Chart.getChart('spending-chart').data.labels.length") == 3
            assert page.evaluate("Chart.getChart('networth-chart').data.labels.length") == 12
            fill = groceries.locator(".bar > span")
            assert fill.evaluate("node => node.style.width") == "25%"

            token = _api_token(server.url, user.email)
            _post(
                server.url + "/api/v1/transactions",
                {"amount": "100.00", "date": today.isoformat(), "merchant_raw": "Big Shop", "category": "Groceries"},
                token,
            )
            expect(groceries).to_have_attribute("data-percentage", "75.0", timeout=15000)
            expect(groceries).to_contain_text("150.00 of 200.00 USD")
            assert fill.evaluate("node => node.style.width") == "75%"
            expect(page.locator('article[data-type="transaction_update"]')).to_contain_text("Big Shop")

            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=ARTIFACTS / "live-dashboard.png", full_page=True)
            assert violations == []
        finally:
            browser.close()
