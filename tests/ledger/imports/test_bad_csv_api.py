"""Broken CSVs through both import paths (POST transactions/import and POST imports): a row
error or a 400 in the error shape, never a 500, and never a mis-imported row (issue 13)."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import Import, ImportRow, Transaction
from tests.ledger.factories import AccountFactory

pytestmark = pytest.mark.django_db

HEADER = b"date,amount,merchant,notes\n"
BROKEN = {
    "cr_only": b"date,amount,merchant,notes\r2026-11-03,5.00,Aldi,\r2026-11-04,6.00,Lidl,\r",
    "nul_byte": HEADER + b"2026-11-03,5.00,Al\x00di,\n2026-11-04,6.00,Lidl,\n",
    "long_cell": HEADER + b"2026-11-03,5.00,Aldi," + b"x" * 140_000 + b"\n2026-11-04,6.00,Lidl,\n",
    "extra_comma": b"date,amount,merchant\n2026-11-04,1,234,Tesco\n2026-11-05,6.00,Lidl\n",
    "extra_comma_with_notes": HEADER + b"2026-11-03,1,234,Tesco,note\n2026-11-04,6.00,Lidl,\n",
    "unbalanced_quote": HEADER + b'2026-11-03,"5.00,Aldi,\n2026-11-04,6.00,Lidl,\n',
    "ancient_date": HEADER + b"0001-01-01,5.00,Aldi,\n2026-11-04,6.00,Lidl,\n",
    "future_date": HEADER + b"9999-12-31,5.00,Aldi,\n2026-11-04,6.00,Lidl,\n",
    "arabic_digits": HEADER + "2026-11-03,١٢,Aldi,\n2026-11-04,6.00,Lidl,\n".encode(),
    "fullwidth_digits": HEADER + "2026-11-03,１２,Aldi,\n2026-11-04,6.00,Lidl,\n".encode(),
}
# What each file must import: every good row, no broken one.
GOOD = {
    "cr_only": {("Aldi", Decimal("5.00")), ("Lidl", Decimal("6.00"))},
}
LIDL = {("Lidl", Decimal("6.00"))}


@pytest.fixture
def account(user):
    return AccountFactory(user=user, name="Checking", currency="USD")


def stored(user):
    # Sizes only: the old path reads a positive amount as money out, the generic profile as money in.
    return {
        (merchant, abs(amount))
        for merchant, amount in Transaction.objects.filter(user=user).values_list("merchant_raw", "amount")
    }


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_old_import_path_reports_row_errors_and_imports_only_good_rows(auth_client, user, account, name):
    upload = SimpleUploadedFile(f"{name}.csv", BROKEN[name])

    response = auth_client.post(
        "/api/v1/transactions/import", {"file": upload, "account": str(account.pk)}, format="multipart"
    )

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert stored(user) == GOOD.get(name, LIDL)
    assert body["imported"] == len(GOOD.get(name, LIDL))
    if name not in GOOD:
        assert [error["row"] for error in body["errors"]] == [2]
        assert all(Transaction.objects.filter(user=user).values_list("date", flat=True))


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_new_import_preview_reports_row_errors_and_commits_only_good_rows(auth_client, user, account, name):
    upload = SimpleUploadedFile(f"{name}.csv", BROKEN[name])

    preview = auth_client.post("/api/v1/imports", {"file": upload, "account": str(account.pk)}, format="multipart")

    assert preview.status_code == 201, preview.content[:500]
    body = preview.json()
    expected = GOOD.get(name, LIDL)
    assert body["counts"]["new"] == len(expected)
    if name not in GOOD:
        errors = [row for row in body["rows"] if row["fate"] == "error"]
        assert [row["row"] for row in errors] == [2]
        assert errors[0]["message"]
    committed = auth_client.post(f"/api/v1/imports/{body['id']}/commit", {}, format="json")
    assert committed.status_code == 200, committed.content[:500]
    assert stored(user) == expected
    assert Import.objects.get().status == "committed"


def test_new_import_keeps_no_nul_in_stored_rows(auth_client, account):
    upload = SimpleUploadedFile("nul.csv", BROKEN["nul_byte"])

    response = auth_client.post("/api/v1/imports", {"file": upload, "account": str(account.pk)}, format="multipart")

    assert response.status_code == 201, response.content[:500]
    assert "\x00" not in str(list(ImportRow.objects.values_list("data", "message", "cell")))


def test_old_import_path_keeps_a_quoted_newline_inside_a_cell(auth_client, user, account):
    content = HEADER + b'2026-11-03,5.00,Aldi,"two\nlines"\n2026-11-04,6.00,Lidl,\n'

    response = auth_client.post(
        "/api/v1/transactions/import",
        {"file": SimpleUploadedFile("q.csv", content), "account": str(account.pk)},
        format="multipart",
    )

    assert response.status_code == 200
    assert response.json()["errors"] == []
    assert Transaction.objects.get(user=user, merchant_raw="Aldi").notes == "two\nlines"
    assert Transaction.objects.get(user=user, merchant_raw="Lidl").date == datetime.date(2026, 11, 4)
