"""A reconciled period is closed to new rows: whatever would put a row on or
before the date an account was reconciled to (create, restore, a date edit,
a transfer, a bulk move, an import) is a 409 `reconciled` naming that date,
and nothing is stored; rows after it are free, and undoing the
reconciliation opens the period again."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import ImportRow, Transaction, Transfer

pytestmark = pytest.mark.django_db
STATEMENT_DAY = datetime.date(2026, 3, 31)
INSIDE = datetime.date(2026, 3, 20)
AFTER = datetime.date(2026, 4, 2)


def _account(client, name, kind="checking"):
    response = client.post("/api/v1/accounts", {"name": name, "kind": kind, "currency": "USD"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _tx(client, account, amount="10.00", day=INSIDE, merchant="Shop"):
    body = {"amount": amount, "date": day.isoformat(), "merchant_raw": merchant, "account": account,
            "allow_duplicate": True}  # fmt: skip
    return client.post("/api/v1/transactions", body, format="json")


def _reconcile(client, account, balance):
    response = client.post(f"/api/v1/accounts/{account}/reconcile", {"date": STATEMENT_DAY.isoformat(),
                                                                      "balance": balance})  # fmt: skip
    assert response.status_code == 200, response.content


def _refused(response):
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["errors"][0]["code"] == "reconciled"
    assert body["reconciled_through"] == STATEMENT_DAY.isoformat()
    return body


@pytest.fixture
def card(auth_client):
    return _account(auth_client, "Visa", "credit_card")


def test_a_new_row_on_or_before_the_reconciliation_date_is_refused(auth_client, card):
    _reconcile(auth_client, card, "0.00")

    _refused(_tx(auth_client, card, day=INSIDE))
    _refused(_tx(auth_client, card, day=STATEMENT_DAY))
    assert _tx(auth_client, card, day=AFTER).status_code == 201

    assert Transaction.objects.filter(account_id=card).count() == 1
    assert auth_client.post(f"/api/v1/accounts/{card}/reconcile/undo").status_code == 200
    assert _tx(auth_client, card, day=INSIDE).status_code == 201


def test_restoring_a_row_into_a_reconciled_period_is_refused(auth_client, card):
    deleted = _tx(auth_client, card, day=INSIDE).json()
    assert auth_client.delete(f"/api/v1/transactions/{deleted['id']}").status_code == 204
    _reconcile(auth_client, card, "0.00")

    _refused(auth_client.post(f"/api/v1/transactions/{deleted['id']}/restore"))

    assert Transaction.objects.get(pk=deleted["id"]).is_deleted
    assert auth_client.get(f"/api/v1/accounts/{card}").json()["balance"] == "0.00"
    auth_client.post(f"/api/v1/accounts/{card}/reconcile/undo")
    assert auth_client.post(f"/api/v1/transactions/{deleted['id']}/restore").status_code == 200


def test_moving_a_row_into_the_period_by_date_or_account_is_refused(auth_client, card):
    checking = _account(auth_client, "Checking")
    later = _tx(auth_client, card, day=AFTER).json()
    elsewhere = _tx(auth_client, checking, day=INSIDE, merchant="Cafe").json()
    _reconcile(auth_client, card, "-10.00")

    _refused(auth_client.patch(f"/api/v1/transactions/{later['id']}", {"date": INSIDE.isoformat()}, format="json"))
    moved = auth_client.post("/api/v1/transactions/bulk", {"ids": [elsewhere["id"]], "set": {"account": card}},
                             format="json")  # fmt: skip
    _refused(moved)

    assert Transaction.objects.get(pk=later["id"]).date == AFTER
    assert str(Transaction.objects.get(pk=elsewhere["id"]).account_id) == checking
    edited = auth_client.patch(f"/api/v1/transactions/{later['id']}", {"date": "2026-04-05"}, format="json")
    assert edited.status_code == 200


def test_a_transfer_dated_in_either_accounts_reconciled_period_is_refused(auth_client, card):
    checking = _account(auth_client, "Checking")
    _reconcile(auth_client, card, "0.00")
    body = {"from_account": checking, "to_account": card, "amount": "50.00"}

    _refused(auth_client.post("/api/v1/transfers", {**body, "date": INSIDE.isoformat()}, format="json"))

    assert not Transaction.objects.filter(account_id__in=[checking, card]).exists()
    assert auth_client.post("/api/v1/transfers", {**body, "date": AFTER.isoformat()}, format="json").status_code == 201


def test_moving_the_other_leg_of_a_transfer_into_its_reconciled_period_is_refused(auth_client, card):
    checking = _account(auth_client, "Checking")
    body = {"from_account": checking, "to_account": card, "amount": "50.00", "date": AFTER.isoformat()}
    transfer = auth_client.post("/api/v1/transfers", body, format="json").json()
    _reconcile(auth_client, card, "0.00")  # the card leg (April) is after the statement: not reconciled
    out_leg = Transfer.objects.get(pk=transfer["id"]).out_leg_id

    _refused(auth_client.patch(f"/api/v1/transactions/{out_leg}", {"date": INSIDE.isoformat()}, format="json"))

    assert set(Transaction.objects.filter(account_id__in=[checking, card]).values_list("date", flat=True)) == {AFTER}


def _preview(client, account, content):
    upload = SimpleUploadedFile("statement.csv", content.encode())
    response = client.post("/api/v1/imports", {"file": upload, "account": account}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_an_import_row_in_the_reconciled_period_is_a_row_error_until_the_undo(auth_client, card):
    assert _tx(auth_client, card, amount="20.00", day=datetime.date(2026, 3, 5), merchant="Grocer").status_code == 201
    _reconcile(auth_client, card, "-20.00")
    content = "date,amount,payee\n2026-03-05,-20.00,Grocer\n2026-03-12,-7.00,Cafe\n2026-04-03,-5.00,Bakery\n"

    import_id = _preview(auth_client, card, content)

    fates = {row.row_number: (row.fate, row.cell) for row in ImportRow.objects.filter(source_import_id=import_id)}
    assert fates == {2: ("duplicate", ""), 3: ("error", "date"), 4: ("new", "")}
    cafe = ImportRow.objects.get(source_import_id=import_id, row_number=3)
    assert "2026-03-31" in cafe.message and "reconcil" in cafe.message
    committed = auth_client.post(f"/api/v1/imports/{import_id}/commit", {}, format="json")
    assert committed.status_code == 200, committed.content
    assert list(Transaction.objects.filter(source_import_id=import_id).values_list("merchant_raw", flat=True)) == [
        "Bakery"
    ]

    auth_client.post(f"/api/v1/accounts/{card}/reconcile/undo")
    again = _preview(auth_client, card, content)
    fates = {row.row_number: row.fate for row in ImportRow.objects.filter(source_import_id=again)}
    assert fates == {2: "duplicate", 3: "new", 4: "duplicate"}


def test_a_commit_after_a_reconciliation_refuses_rows_in_the_period(auth_client, card):
    import_id = _preview(auth_client, card, "date,amount,payee\n2026-03-12,-7.00,Cafe\n2026-04-03,-5.00,Bakery\n")
    _reconcile(auth_client, card, "0.00")  # nothing to mark: the ledger did not move, the preview's fates stand

    body = _refused(auth_client.post(f"/api/v1/imports/{import_id}/commit", {}, format="json"))

    assert body["rows"] == [2]
    assert not Transaction.objects.filter(account_id=card).exists()
    skipped = auth_client.post(f"/api/v1/imports/{import_id}/commit", {"skip_rows": [2]}, format="json")
    assert skipped.status_code == 200, skipped.content
    assert Transaction.objects.filter(account_id=card).count() == 1
