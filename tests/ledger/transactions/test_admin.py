"""Creating and editing a transaction on the admin pages has the API's
effects: the same services run (tests drive the real admin URLs)."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client

from ledger.models import CategoryCorrection, Transaction
from merchants.categories import Category
from merchants.services import normalize_merchant_text
from realtime.models import Notification
from tests.accounts.factories import UserFactory
from tests.budgets.factories import BudgetFactory
from tests.ledger.factories import TransactionFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db
URL = "/admin/ledger/transaction/"
NOON = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOON.date()


@pytest.fixture(autouse=True)
def march(time_machine):
    time_machine.move_to(NOON, tick=False)


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def add_form(user, **fields):
    return {
        "user": user.pk,
        "amount": "85.00",
        "currency": "",
        "date": TODAY.isoformat(),
        "merchant_raw": "SQ *BLUE BOTTLE",
        "category": "",
        "notes": "",
        "source": Transaction.Source.MANUAL,
        "external_id": "",
        # The read-only audit inline (TransactionChange) posts an empty formset.
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
        **fields,
    }


def budget_alerts(user):
    return list(Notification.objects.filter(user=user, type="budget_alert").values_list("data", flat=True))


def test_admin_add_matches_the_merchant_and_alerts_the_budget(admin_client, user, django_capture_on_commit_callbacks):
    merchant = MerchantFactory(canonical_name="Blue Bottle", category=Category.FOOD_DINING)
    BudgetFactory(user=user, category=Category.FOOD_DINING, amount=Decimal("100.00"))

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(URL + "add/", add_form(user))

    assert response.status_code == 302, response.content
    tx = Transaction.objects.get(user=user)
    assert tx.merchant_normalized == normalize_merchant_text("SQ *BLUE BOTTLE") != ""
    assert (tx.merchant_id, tx.category, tx.currency) == (merchant.pk, Category.FOOD_DINING, "USD")
    # transactions_changed went out after commit: the budget (85 of 100) stored its warning.
    (alert,) = budget_alerts(user)
    assert (alert["category"], alert["level"], alert["spent"]) == (Category.FOOD_DINING, "warning", "85.00")


def test_admin_add_refuses_a_likely_duplicate_as_the_api_does(admin_client, user):
    existing = TransactionFactory(user=user, amount=Decimal("85.00"), date=TODAY, merchant_raw="SQ *BLUE BOTTLE")

    response = admin_client.post(URL + "add/", add_form(user))

    assert response.status_code == 200
    errors = str(response.context["adminform"].form.non_field_errors())
    assert "already exists" in errors and str(existing.pk) in errors
    assert Transaction.objects.filter(user=user).count() == 1


def test_admin_edit_records_the_correction_and_re_evaluates_the_budget(
    admin_client, user, django_capture_on_commit_callbacks
):
    BudgetFactory(user=user, category=Category.TRANSPORT, amount=Decimal("50.00"))
    tx = TransactionFactory(user=user, amount=Decimal("42.50"), date=TODAY, category=Category.GROCERIES)
    form = {
        "amount": "42.50",
        "date": TODAY.isoformat(),
        "merchant_raw": "Metro Card 7",
        "category": Category.TRANSPORT,
        "notes": "bus pass",
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
    }

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{URL}{tx.pk}/change/", form)

    assert response.status_code == 302, response.content
    tx.refresh_from_db()
    assert (tx.category, tx.notes, tx.merchant_normalized) == (Category.TRANSPORT, "bus pass", "metro card 7")
    correction = CategoryCorrection.objects.get(transaction=tx)
    assert (correction.old_category, correction.new_category, correction.reason) == (
        Category.GROCERIES,
        Category.TRANSPORT,
        "admin",
    )
    (alert,) = budget_alerts(user)  # 42.50 of 50 in Transport
    assert (alert["category"], alert["level"]) == (Category.TRANSPORT, "warning")


def test_admin_delete_is_the_apis_soft_delete(admin_client, user, django_capture_on_commit_callbacks):
    tx = TransactionFactory(user=user)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{URL}{tx.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    tx.refresh_from_db()
    assert tx.is_deleted and tx.deleted_at is not None
    assert Notification.objects.filter(user=user, type="transaction_update", data__action="deleted").exists()
