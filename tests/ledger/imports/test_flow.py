"""POST imports (preview) → commit → revert, through the API, with the
fixture files written from each bank's documented layout (see
test_bank_profiles.py and test_statement_formats.py for their sources)."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from ledger.models import Import, ImportRow, Transaction, Transfer
from realtime.models import Notification
from tests.accounts.factories import UserFactory
from tests.ledger.factories import AccountFactory

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).parent / "fixtures"


def upload(client, account, name, content=None, **fields):
    data = content if content is not None else (FIXTURES / name).read_bytes()
    body = {"file": SimpleUploadedFile(name, data), "account": str(account.id), **fields}
    return client.post("/api/v1/imports", body, format="multipart")


@pytest.fixture
def card(user):
    return AccountFactory(user=user, name="Sapphire", kind="credit_card", currency="USD")


@pytest.fixture
def checking(user):
    return AccountFactory(user=user, name="Checking", kind="checking", currency="USD")


def test_preview_reads_a_chase_card_file_with_the_right_signs_and_writes_nothing(auth_client, card):
    response = upload(auth_client, card, "chase_credit.csv")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["format"], body["profile"]["key"], body["detected_by"]) == (
        "preview", "csv", "chase_credit", "signature"
    )  # fmt: skip
    assert body["counts"]["new"] == body["counts"]["total"] == 8
    by_payee = {row["data"]["payee"]: row for row in body["rows"]}
    assert by_payee["STARBUCKS STORE 08812"]["amount"] == "5.25"  # a purchase is money out
    assert by_payee["AUTOMATIC PAYMENT - THANK"]["amount"] == "-500.00"  # the payment is money in
    assert by_payee["STARBUCKS STORE 08812"]["data"]["category"] == "Food & Dining"
    assert not Transaction.objects.filter(account=card).exists()


def test_commit_writes_the_rows_once_and_a_second_upload_finds_only_duplicates(auth_client, user, card):
    preview = upload(auth_client, card, "chase_credit.csv").json()

    committed = auth_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json")

    assert committed.status_code == 200, committed.json()
    assert committed.json()["status"] == "committed"
    rows = Transaction.objects.filter(account=card, is_deleted=False)
    assert rows.count() == committed.json()["counts"]["imported"] == 8
    coffee = rows.get(merchant_raw="STARBUCKS STORE 08812")
    assert (coffee.amount, coffee.bank_category, coffee.category, coffee.source) == (
        Decimal("5.25"), "Food & Drink", "Food & Dining", "import"
    )  # fmt: skip
    assert coffee.source_import_id == Import.objects.get().id
    assert Notification.objects.filter(user=user, type="import_committed").count() == 1

    again = upload(auth_client, card, "chase_credit.csv").json()
    assert (again["counts"]["new"], again["counts"]["duplicate"]) == (0, 8)
    assert {row["duplicate_of"] for row in again["rows"]} == {str(i) for i in rows.values_list("id", flat=True)}
    second = auth_client.post(f"/api/v1/imports/{again['id']}/commit", {}, format="json")
    assert second.json()["counts"]["imported"] == 0
    assert Transaction.objects.filter(account=card).count() == 8


def test_a_card_payment_from_checking_is_matched_as_a_transfer(auth_client, user, card, checking):
    for account, name in ((checking, "chase_checking.csv"), (card, "chase_credit.csv")):
        preview = upload(auth_client, account, name).json()
        auth_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json")

    transfer = Transfer.objects.get(user=user)
    assert (transfer.out_leg.account, transfer.out_leg.amount) == (checking, Decimal("500.00"))
    assert (transfer.in_leg.account, transfer.in_leg.amount) == (card, Decimal("-500.00"))
    assert Import.objects.get(account=card).transfers_matched == 1
    assert ImportRow.objects.get(transaction=transfer.in_leg).fate == ImportRow.Fate.TRANSFER


def test_commit_is_once_only_and_an_expired_preview_is_refused(auth_client, card):
    first = upload(auth_client, card, "chase_credit.csv").json()
    assert auth_client.post(f"/api/v1/imports/{first['id']}/commit", {}, format="json").status_code == 200
    twice = auth_client.post(f"/api/v1/imports/{first['id']}/commit", {}, format="json")
    assert (twice.status_code, twice.json()["errors"][0]["code"]) == (409, "import_not_preview")

    stale = upload(auth_client, card, "amex.csv").json()
    Import.objects.filter(id=stale["id"]).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    expired = auth_client.post(f"/api/v1/imports/{stale['id']}/commit", {}, format="json")
    assert (expired.status_code, expired.json()["errors"][0]["code"]) == (409, "import_expired")


def test_another_users_import_and_account_are_404(auth_client, api_client, card):
    preview = upload(auth_client, card, "chase_credit.csv").json()
    stranger = UserFactory()
    api_client.force_authenticate(stranger)

    assert api_client.get(f"/api/v1/imports/{preview['id']}").status_code == 404
    assert api_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json").status_code == 404
    assert api_client.delete(f"/api/v1/imports/{preview['id']}").status_code == 404
    assert upload(api_client, card, "chase_credit.csv").status_code == 404
    assert Import.objects.get().status == "preview"


def test_revert_soft_deletes_what_the_import_created_and_only_once(auth_client, card):
    kept = Transaction.objects.create(
        user=card.user, account=card, amount=Decimal("3.00"), date=datetime.date(2024, 3, 1), merchant_raw="Kiosk"
    )
    preview = upload(auth_client, card, "chase_credit.csv").json()
    auth_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json")

    reverted = auth_client.delete(f"/api/v1/imports/{preview['id']}")

    assert (reverted.status_code, reverted.json()["status"]) == (200, "reverted")
    assert list(Transaction.objects.filter(account=card, is_deleted=False)) == [kept]
    assert Transaction.objects.filter(account=card, is_deleted=True).count() == 8
    again = auth_client.delete(f"/api/v1/imports/{preview['id']}")
    assert (again.status_code, again.json()["errors"][0]["code"]) == (409, "import_not_committed")


def test_ofx_ids_decide_duplicates_exactly(auth_client, user):
    card = AccountFactory(user=user, name="Girokonto", currency="EUR")
    preview = upload(auth_client, card, "bank_v220.ofx").json()
    assert preview["format"] == "ofx" and preview["profile"] is None
    auth_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json")
    stored = Transaction.objects.filter(account=card)
    assert stored.count() == preview["counts"]["new"] > 0
    assert all(tx.external_id for tx in stored)

    again = upload(auth_client, card, "bank_v220.ofx").json()
    assert again["counts"]["new"] == 0
    assert {r["message"] for r in again["rows"]} == {"Same external id as a transaction in the account."}


def test_rows_page_filters_by_fate(auth_client, card):
    content = b"date,amount,payee\n2024-03-01,4.50,Cafe\n2024-03-02,abc,Cafe\n2024-03-03,2.00,Bakery\n"
    preview = upload(auth_client, card, "mine.csv", content=content).json()

    errors = auth_client.get(f"/api/v1/imports/{preview['id']}?fate=error").json()["rows"]
    assert errors["count"] == 1
    assert (errors["results"][0]["row"], errors["results"][0]["fate"]) == (3, "error")
    assert errors["results"][0]["message"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', "unsafe_xml"),
        (b"PK\x03\x04not really a workbook", None),
    ],
)
def test_a_bad_file_is_a_400_naming_the_problem_and_stores_nothing(auth_client, card, content, code):
    response = upload(auth_client, card, "statement.bin", content=content)

    assert response.status_code == 400, response.json()
    error = response.json()["errors"][0]
    assert error["attr"] == "file" and error["detail"]
    if code:
        assert error["code"] == code
    assert not Import.objects.exists()


def test_an_unknown_profile_is_404_and_a_closed_account_409(auth_client, card):
    assert upload(auth_client, card, "chase_credit.csv", profile="no-such-profile").status_code == 404
    card.closed_at = timezone.now()
    card.save()
    assert upload(auth_client, card, "chase_credit.csv").status_code == 409


def test_profiles_list_builtins_refuse_edits_and_a_preview_can_be_saved_as_a_profile(auth_client, card):
    listed = auth_client.get("/api/v1/import-profiles?limit=100").json()
    builtin = next(p for p in listed["results"] if p["key"] == "chase_credit")
    assert builtin["builtin"] is True
    refused = auth_client.patch(f"/api/v1/import-profiles/{builtin['id']}", {"delimiter": ";"}, format="json")
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (400, "builtin_profile")

    preview = upload(auth_client, card, "chase_credit.csv", delimiter=",").json()
    saved = auth_client.post(f"/api/v1/imports/{preview['id']}/save-profile", {"name": "My card"}, format="json")

    assert saved.status_code == 201, saved.json()
    assert (saved.json()["builtin"], saved.json()["sign"], saved.json()["columns"]["amount"]) == (
        False, builtin["sign"], builtin["columns"]["amount"]
    )  # fmt: skip
    duplicate = auth_client.post(f"/api/v1/imports/{preview['id']}/save-profile", {"name": "my CARD"}, format="json")
    assert duplicate.status_code == 409


def test_a_large_import_commits_through_the_task(
    auth_client, card, settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.LEDGER_IMPORT_ASYNC_ROWS = 2
    preview = upload(auth_client, card, "chase_credit.csv").json()

    with django_capture_on_commit_callbacks(execute=True):
        queued = auth_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json")

    assert queued.status_code == 202
    done = Import.objects.get(id=preview["id"])
    assert (done.status, done.imported_count) == ("committed", 8)
    assert Transaction.objects.filter(account=card).count() == 8


def test_ofx_ledger_balance_is_checked_against_the_account_it_lands_in(auth_client, user):
    # bank_v102.ofx: -42.17 +2500.00 -150.00 in the bank's sign, LEDGERBAL 3307.83 as of 2024-03-10.
    fits = AccountFactory(user=user, name="Fits", currency="USD", opening_balance=Decimal("1000.00"))
    short = AccountFactory(user=user, name="Short", currency="USD", opening_balance=Decimal("900.00"))
    fresh = AccountFactory(user=user, name="Fresh", currency="USD")

    fine = upload(auth_client, fits, "bank_v102.ofx").json()
    flagged = upload(auth_client, short, "bank_v102.ofx").json()
    unknown = upload(auth_client, fresh, "bank_v102.ofx").json()

    assert fine["statement"]["closing_date"] == "2024-03-10"
    assert not any(w.startswith("balance mismatch") for w in fine["warnings"]), fine["warnings"]
    mismatch = [w for w in flagged["warnings"] if w.startswith("balance mismatch")]
    assert mismatch and "3307.83" in mismatch[0] and "3207.83" in mismatch[0], flagged["warnings"]
    # An account that knows nothing before the file (no opening balance, no earlier rows): nothing to check.
    assert not any(w.startswith("balance mismatch") for w in unknown["warnings"]), unknown["warnings"]


def test_a_salary_paid_into_checking_is_income_in_cash_flow(auth_client, checking):
    preview = upload(auth_client, checking, "chase_checking.csv").json()
    auth_client.post(f"/api/v1/imports/{preview['id']}/commit", {}, format="json")

    salary = Transaction.objects.get(account=checking, merchant_raw__startswith="ACME CORP PAYROLL")
    assert (salary.amount, salary.category, salary.confidence["method"]) == (
        Decimal("-2500.00"), "Income", "income_wording"
    )  # fmt: skip
    cheque = Transaction.objects.get(account=checking, merchant_raw="CHECK 1042")
    assert cheque.category == "Uncategorized"  # money out never reads as income
    march = auth_client.get("/api/v1/reports/cashflow", {"since": "2024-03-01", "until": "2024-03-31"}).json()
    assert march["periods"][0]["income"] == "2500.00"
