"""manage.py seed_demo: a demo user with a year of activity over a checking
account, a card and savings; budgets (some over), holdings; idempotent; the
login it prints works."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from budgets.selectors import budget_status
from ledger.models import Account, PortfolioHolding, Transaction, Transfer
from merchants.categories import Category
from workers.demo import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def _snapshot(user):
    return (
        Transaction.objects.filter(user=user).count(),
        Transfer.objects.filter(user=user).count(),
        user.budgets.count(),
        PortfolioHolding.objects.filter(user=user).count(),
        Account.objects.filter(user=user).count(),
    )


def test_seed_demo_builds_a_year_of_activity_and_prints_a_working_login(api_client):
    output = _seed()

    assert f"demo@tally.local / {DEMO_PASSWORD}" in output
    user = User.objects.get(email="demo@tally.local")
    assert user.is_verified
    login = api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEMO_PASSWORD}, format="json")
    assert login.status_code == 200

    accounts = {a.kind: a for a in Account.objects.filter(user=user)}
    assert set(accounts) == {Account.Kind.CHECKING, Account.Kind.CREDIT_CARD, Account.Kind.SAVINGS}
    rows = Transaction.objects.filter(user=user)
    assert rows.dates("date", "month").count() == 12
    assert rows.count() >= 300
    # Salaries twice a month are money in (negative); rent is money out.
    salaries = rows.filter(merchant_raw="ACME CORP PAYROLL", account=accounts[Account.Kind.CHECKING])
    assert salaries.count() >= 22 and all(amount < 0 for amount in salaries.values_list("amount", flat=True))
    assert rows.filter(category=Category.HOUSING, amount=Decimal("1650.00")).count() == 12
    assert rows.filter(category=Category.SUBSCRIPTIONS, account=accounts[Account.Kind.CREDIT_CARD]).count() >= 30
    assert rows.filter(category=Category.SHOPPING, amount__lt=0).count() == 2  # refunds
    # Transfers: savings every month and the card paid from checking, both legs linked.
    transfers = Transfer.objects.filter(user=user)
    assert transfers.count() >= 21  # 11 or 12 savings, 10 or 11 card payments, by the day of the month
    assert rows.filter(kind=Transaction.Kind.TRANSFER, transfer__isnull=True).count() == 0
    # The one-off large purchases stand out to anomaly scoring.
    assert rows.filter(anomaly_score__gte=0.8, amount__gte=400).count() >= 3
    status = budget_status(user=user)
    assert status["budget_count"] == 5 and status["over_budget_count"] >= 2
    holdings = PortfolioHolding.objects.filter(user=user)
    assert holdings.count() == 3 and all(h.last_valuation for h in holdings)


def test_seed_demo_is_idempotent():
    _seed()
    user = User.objects.get(email="demo@tally.local")
    before = _snapshot(user)

    output = _seed()

    assert "already there" in output
    assert _snapshot(user) == before
    assert User.objects.filter(email__startswith="demo").count() == 1


def test_users_and_months_size_the_data():
    output = _seed("--users", "2", "--months", "3")

    assert "demo@tally.local" in output and "demo2@tally.local" in output
    for email in ("demo@tally.local", "demo2@tally.local"):
        rows = Transaction.objects.filter(user__email=email)
        assert rows.dates("date", "month").count() == 3


def test_nonsense_sizes_are_refused():
    with pytest.raises(CommandError):
        _seed("--months", "0")
    assert not User.objects.filter(email__startswith="demo").exists()


def test_demo_1_make_run_seeds_the_demo_user():
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    planned = subprocess.run(["make", "-n", "run", "DEMO=1"], cwd=root, capture_output=True, text=True, timeout=60)
    plain = subprocess.run(["make", "-n", "run"], cwd=root, capture_output=True, text=True, timeout=60)

    assert 'if [ "1" = "1" ]; then .venv/bin/python manage.py seed_demo; fi' in planned.stdout
    assert 'if [ "" = "1" ]' in plain.stdout
