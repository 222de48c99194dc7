"""The CSV export escapes formula-leading text in every text cell, external_id included,
and both importers read the escaped cells back as they were (issue 13)."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import Transaction
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db

FORMULAS = ("=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "=HYPERLINK(evil)")


def _export(client) -> list[dict]:
    response = client.get("/api/v1/transactions/export", {"format": "csv"})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.parametrize("formula", FORMULAS)
def test_every_text_cell_is_escaped(auth_client, user, formula):
    TransactionFactory(
        user=user, merchant_raw=f"{formula} shop", notes=formula, external_id=formula, amount=Decimal("-1.00")
    )

    (row,) = _export(auth_client)

    assert row["external_id"] == f"'{formula}"
    assert row["notes"] == f"'{formula}"
    assert row["merchant"] == f"'{formula} shop"
    assert row["amount"] == "-1.00"  # a number stays a number
    for column, value in row.items():
        assert not value or value[0] not in "=+-@\t\r" or column == "amount", (column, value)


def test_exported_external_ids_round_trip_through_the_old_import(auth_client, other_client, user, other_user):
    TransactionFactory(user=user, merchant_raw="Shop", external_id="=1+1", amount=Decimal("5.00"))
    exported = b"".join(auth_client.get("/api/v1/transactions/export").streaming_content)

    response = other_client.post(
        "/api/v1/transactions/import", {"file": SimpleUploadedFile("t.csv", exported)}, format="multipart"
    )

    assert response.status_code == 200, response.content
    assert response.json()["errors"] == []
    assert Transaction.objects.get(user=other_user).external_id == "=1+1"


def test_exported_external_ids_round_trip_through_the_new_import(auth_client, other_client, user, other_user):
    TransactionFactory(user=user, merchant_raw="Shop", external_id="=1+1", amount=Decimal("5.00"))
    exported = b"".join(auth_client.get("/api/v1/transactions/export").streaming_content)
    account = AccountFactory(user=other_user, currency="USD")

    preview = other_client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("t.csv", exported), "account": str(account.pk)},
        format="multipart",
    )  # fmt: skip
    committed = other_client.post(f"/api/v1/imports/{preview.json()['id']}/commit", {}, format="json")

    assert preview.status_code == 201, preview.content
    assert preview.json()["profile"]["key"] == "tally"
    assert committed.status_code == 200, committed.content
    stored = Transaction.objects.get(user=other_user)
    assert (stored.external_id, stored.amount) == ("=1+1", Decimal("5.00"))


def test_report_csv_escapes_text_cells_but_not_numbers(auth_client, user):
    TransactionFactory(
        user=user, merchant_raw="=HYPERLINK(evil)", amount=Decimal("5.00"), date=datetime.date(2026, 3, 2)
    )
    TransactionFactory(user=user, merchant_raw="Refund", amount=Decimal("-2.00"), date=datetime.date(2026, 3, 3))

    response = auth_client.get(
        "/api/v1/reports/spending",
        {"since": "2026-03-01", "until": "2026-03-31", "group_by": "merchant", "format": "csv"},
    )

    assert response.status_code == 200, response.content
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    keys = {row["key"]: row["amount"] for row in rows}
    assert keys == {"'=HYPERLINK(evil)": "5.00", "Refund": "-2.00"}
