"""A reconciled row is part of a balance the user agreed with a statement:
no delete moves it (API, bulk, admin, import revert), each refusal is a 409
`reconciled` in the one error shape, and nothing is stored."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ledger.books import selectors, services
from ledger.models import Import, Transaction, Transfer
from tests.accounts.factories import UserFactory
from tests.ledger.factories import AccountFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 10)
STATEMENT_DAY = datetime.date(2026, 3, 31)


@pytest.fixture
def card(user):
    return AccountFactory(user=user, name="Visa", kind="credit_card", currency="USD")


@pytest.fixture
def checking(user):
    return AccountFactory(user=user, name="Checking", kind="checking", currency="USD")


def _tx(client, amount, account, day=DAY, merchant="Shop"):
    body = {"amount": amount, "date": day.isoformat(), "merchant_raw": merchant, "account": str(account.id)}
    response = client.post("/api/v1/transactions", {**body, "allow_duplicate": True}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _reconcile(client, account, balance, day=STATEMENT_DAY):
    response = client.post(f"/api/v1/accounts/{account.id}/reconcile", {"date": day.isoformat(), "balance": balance})
    assert response.status_code == 200, response.content
    return response.json()


def _refused(response, ids):
    assert response.status_code == 409, response.content
    body = response.json()
    assert (body["type"], body["errors"][0]["code"], body["errors"][0]["attr"]) == ("client_error", "reconciled", None)
    assert sorted(body["transaction_ids"]) == sorted(str(i) for i in ids)
    assert body["reconciled_count"] == len(ids)
    return body


def _live(*ids):
    return Transaction.objects.filter(id__in=ids, is_deleted=False).count()


def test_deleting_a_reconciled_row_is_refused_and_the_balance_stays(auth_client, card):
    purchase = _tx(auth_client, "40.00", card)
    _reconcile(auth_client, card, "-40.00")

    _refused(auth_client.delete(f"/api/v1/transactions/{purchase['id']}"), [purchase["id"]])

    assert _live(purchase["id"]) == 1
    assert selectors.balance_of(card) == Decimal("-40.00")


def test_a_row_after_the_statement_date_still_deletes(auth_client, card):
    _tx(auth_client, "40.00", card)
    _reconcile(auth_client, card, "-40.00")
    later = _tx(auth_client, "9.00", card, day=STATEMENT_DAY + datetime.timedelta(days=1))

    assert auth_client.delete(f"/api/v1/transactions/{later['id']}").status_code == 204
    assert _live(later["id"]) == 0


def test_the_reconciliation_adjustment_is_undone_only_with_its_reconciliation(auth_client, card):
    _tx(auth_client, "40.00", card)
    adjustment_id = _reconcile(auth_client, card, "-45.00")["adjustment_id"]

    _refused(auth_client.delete(f"/api/v1/transactions/{adjustment_id}"), [adjustment_id])
    assert selectors.balance_of(card) == Decimal("-45.00")

    assert auth_client.post(f"/api/v1/accounts/{card.id}/reconcile/undo").status_code == 200
    assert selectors.balance_of(card) == Decimal("-40.00")


def test_after_undoing_the_reconciliation_the_row_deletes(auth_client, card):
    purchase = _tx(auth_client, "40.00", card)
    _reconcile(auth_client, card, "-40.00")
    auth_client.post(f"/api/v1/accounts/{card.id}/reconcile/undo")

    assert auth_client.delete(f"/api/v1/transactions/{purchase['id']}").status_code == 204
    assert selectors.balance_of(card) == Decimal("0.00")


def test_a_transfer_leg_that_would_take_a_reconciled_leg_with_it_is_refused(user, auth_client, checking, card):
    transfer = services.transfer_create(
        user=user, from_account=checking, to_account=card, amount=Decimal("100.00"), date=DAY
    )
    _reconcile(auth_client, card, "100.00")  # the card's leg is reconciled, the checking one is not

    _refused(auth_client.delete(f"/api/v1/transactions/{transfer.out_leg_id}"), [transfer.in_leg_id])

    assert _live(transfer.out_leg_id, transfer.in_leg_id) == 2
    assert Transfer.objects.filter(pk=transfer.pk).exists()


def test_bulk_delete_with_one_reconciled_row_deletes_nothing(auth_client, card, checking):
    reconciled = _tx(auth_client, "40.00", card)
    _reconcile(auth_client, card, "-40.00")
    free = _tx(auth_client, "7.00", checking)

    response = auth_client.post(
        "/api/v1/transactions/bulk", {"ids": [free["id"], reconciled["id"]], "delete": True}, format="json"
    )

    _refused(response, [reconciled["id"]])
    assert _live(free["id"], reconciled["id"]) == 2
    by_filter = auth_client.post("/api/v1/transactions/bulk", {"filter": {}, "delete": True}, format="json")
    _refused(by_filter, [reconciled["id"]])
    assert _live(free["id"], reconciled["id"]) == 2


def test_bulk_delete_ends_transfers_as_the_single_delete_does(user, auth_client, checking, card):
    entered = services.transfer_create(
        user=user, from_account=checking, to_account=card, amount=Decimal("100.00"), date=DAY
    )
    purchase = _tx(auth_client, "60.00", checking, day=DAY + datetime.timedelta(days=10), merchant="Card payment")
    payment = _tx(auth_client, "-60.00", card, day=DAY + datetime.timedelta(days=11), merchant="Thank you")
    assert payment["kind"] == "transfer"  # matched on create

    response = auth_client.post(
        "/api/v1/transactions/bulk", {"ids": [str(entered.out_leg_id), purchase["id"]], "delete": True}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["deleted"] == 3  # both legs of the entered transfer, and the matched leg only
    assert _live(entered.out_leg_id, entered.in_leg_id, purchase["id"]) == 0
    left = Transaction.objects.get(pk=payment["id"])
    assert (left.is_deleted, left.kind, left.transfer_id) == (False, "standard", None)
    assert not Transfer.objects.filter(user=user).exists()


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_delete_of_a_reconciled_row_is_refused_with_a_message(auth_client, admin_client, card):
    purchase = _tx(auth_client, "40.00", card)
    _reconcile(auth_client, card, "-40.00")
    url = f"/admin/ledger/transaction/{purchase['id']}/delete/"

    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == f"/admin/ledger/transaction/{purchase['id']}/change/"
    assert any("reconciled" in str(m) for m in get_messages(response.wsgi_request))
    assert _live(purchase["id"]) == 1


def test_admin_bulk_delete_with_a_reconciled_row_deletes_nothing(auth_client, admin_client, card, checking):
    reconciled = _tx(auth_client, "40.00", card)
    _reconcile(auth_client, card, "-40.00")
    free = _tx(auth_client, "7.00", checking)
    action = {"action": "delete_selected", "_selected_action": [free["id"], reconciled["id"]], "post": "yes"}

    response = admin_client.post("/admin/ledger/transaction/", action)

    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("reconciled" in m for m in messages) and not any("Successfully" in m for m in messages)
    assert _live(free["id"], reconciled["id"]) == 2


def _import(client, account, content):
    upload = SimpleUploadedFile("statement.csv", content.encode())
    preview = client.post("/api/v1/imports", {"file": upload, "account": str(account.id)}, format="multipart")
    assert preview.status_code == 201, preview.content
    committed = client.post(f"/api/v1/imports/{preview.json()['id']}/commit", {}, format="json")
    assert committed.status_code == 200, committed.content
    return committed.json()["id"]


def test_import_revert_is_refused_whole_when_one_of_its_rows_is_reconciled(auth_client, card):
    import_id = _import(auth_client, card, "date,amount,payee\n2026-03-05,-20.00,Grocer\n2026-04-03,-5.00,Cafe\n")
    _reconcile(auth_client, card, "-20.00")  # the March row only
    march = Transaction.objects.get(source_import_id=import_id, date=datetime.date(2026, 3, 5))

    body = _refused(auth_client.delete(f"/api/v1/imports/{import_id}"), [march.id])

    assert "Undo the reconciliation first" in body["errors"][0]["detail"]
    assert Import.objects.get(pk=import_id).status == "committed"
    assert Transaction.objects.filter(source_import_id=import_id, is_deleted=False).count() == 2
    assert selectors.balance_of(card) == Decimal("-25.00")

    auth_client.post(f"/api/v1/accounts/{card.id}/reconcile/undo")
    assert auth_client.delete(f"/api/v1/imports/{import_id}").status_code == 200
    assert Transaction.objects.filter(source_import_id=import_id, is_deleted=False).count() == 0
    assert selectors.balance_of(card) == Decimal("0.00")
