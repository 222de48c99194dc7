"""A base-currency change through PATCH auth/me: 202 with a flag, a task
reconverts every transaction of the user (hand-checked figures), a second
change while it runs is a 409, unknown codes are 400s."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import User
from ledger.currency.services import user_amounts_recompute
from ledger.models import Transaction
from tests.ledger.factories import TransactionFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def test_a_new_users_base_currency_comes_from_the_preferences_else_usd():
    assert User.objects.create_user("a@example.com", "pw-12345678", preferences={"currency": "GBP"}).base_currency == (
        "GBP"
    )
    assert User.objects.create_user("b@example.com", "pw-12345678", preferences={"currency": "XYZ"}).base_currency == (
        "USD"
    )
    assert User.objects.create_user("c@example.com", "pw-12345678").base_currency == "USD"


def test_changing_the_base_currency_recomputes_every_row(
    rates, auth_client, user, celery_eager, django_capture_on_commit_callbacks
):
    eur = TransactionFactory(user=user, currency="EUR", amount=Decimal("100.00"), date=D(2026, 3, 2))
    usd = TransactionFactory(user=user, currency="USD", amount=Decimal("54.00"), date=D(2026, 3, 2))
    gbp = TransactionFactory(user=user, currency="GBP", amount=Decimal("8.50"), date=D(2026, 3, 3))
    other = TransactionFactory(currency="EUR", amount=Decimal("100.00"), date=D(2026, 3, 2))
    assert Transaction.objects.get(pk=eur.pk).amount_base == Decimal("108.00")  # USD base: 100 x 1.08

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch("/api/v1/auth/me", {"base_currency": "eur"}, format="json")

    assert response.status_code == 202, response.json()
    assert (response.json()["base_currency"], response.json()["base_currency_recomputing"]) == ("EUR", True)
    rows = {
        tx.pk: (tx.amount_base, tx.base_currency, tx.rate_date)
        for tx in Transaction.objects.filter(pk__in=[eur.pk, usd.pk, gbp.pk, other.pk])
    }
    assert rows[eur.pk] == (Decimal("100.00"), "EUR", None)  # now the base: copied
    # 1 / 1.08 = 0.9259259259; 54.00 x that = 49.9999999986 -> 50.00
    assert rows[usd.pk] == (Decimal("50.00"), "EUR", D(2026, 3, 2))
    # 1 / 0.86 = 1.1627906977; 8.50 x that = 9.88372093045 -> 9.88
    assert rows[gbp.pk] == (Decimal("9.88"), "EUR", D(2026, 3, 3))
    assert rows[other.pk] == (Decimal("108.00"), "USD", D(2026, 3, 2))  # another user's rows are untouched
    user.refresh_from_db()
    assert user.base_currency_recompute_started_at is None
    assert auth_client.get("/api/v1/auth/me").json()["base_currency_recomputing"] is False
    # The task again changes nothing (idempotent).
    user_amounts_recompute(user_id=user.pk)
    assert Transaction.objects.get(pk=gbp.pk).amount_base == Decimal("9.88")


def test_a_change_while_a_recompute_runs_is_a_409(auth_client, user):
    User.objects.filter(pk=user.pk).update(base_currency_recompute_started_at=timezone.now())
    response = auth_client.patch("/api/v1/auth/me", {"base_currency": "GBP"}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "base_currency_recompute_running"
    user.refresh_from_db()
    assert user.base_currency == "USD"
    # A flag left by a task that died long ago does not block for ever.
    User.objects.filter(pk=user.pk).update(
        base_currency_recompute_started_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert auth_client.patch("/api/v1/auth/me", {"base_currency": "GBP"}, format="json").status_code == 202


def test_unknown_codes_are_400_and_the_same_base_is_a_plain_200(auth_client, user):
    for code in ("XYZ", "EURO", "", "12"):
        response = auth_client.patch("/api/v1/auth/me", {"base_currency": code}, format="json")
        assert response.status_code == 400, code
        assert response.json()["errors"][0]["attr"] == "base_currency"
    same = auth_client.patch("/api/v1/auth/me", {"base_currency": "USD", "full_name": "Ann"}, format="json")
    assert same.status_code == 200
    assert same.json()["base_currency_recomputing"] is False
    user.refresh_from_db()
    assert (user.base_currency, user.full_name, user.base_currency_recompute_started_at) == ("USD", "Ann", None)


def test_the_recompute_runs_in_batches_and_skips_rows_already_in_the_new_base(rates, user):
    """Batches of 2 over 5 rows (keyset newest first, dates shared): every
    row ends in the new base; a row written after the change (the trigger
    converted it already) is not rewritten, and a second run rewrites nothing."""
    rows = [
        TransactionFactory(user=user, currency="USD", amount=Decimal("54.00"), date=D(2026, 3, 2 + n % 2))
        for n in range(4)
    ]
    User.objects.filter(pk=user.pk).update(base_currency="EUR", base_currency_recompute_started_at=timezone.now())
    written_since = TransactionFactory(user=user, currency="USD", amount=Decimal("54.00"), date=D(2026, 3, 2))
    assert Transaction.objects.get(pk=written_since.pk).base_currency == "EUR"

    assert user_amounts_recompute(user_id=user.pk, batch=2) == 4
    converted = {tx.pk: (tx.date, tx.amount_base, tx.base_currency) for tx in Transaction.objects.filter(user=user)}
    # 54.00 x (1 / 1.08 = 0.9259259259) = 50.00 on the 2nd; x (1 / 1.09 = 0.9174311927) = 49.5412844058 on the 3rd
    expected = {(D(2026, 3, 2), Decimal("50.00"), "EUR"), (D(2026, 3, 3), Decimal("49.54"), "EUR")}
    assert set(converted.values()) == expected
    assert set(converted) == {tx.pk for tx in rows} | {written_since.pk}
    user.refresh_from_db()
    assert user.base_currency_recompute_started_at is None
    assert user_amounts_recompute(user_id=user.pk, batch=2) == 0
