"""POST transactions/import, the one-call import, on the statement importer:
what it stores (sign, account, currency, tags, audit, import link), what it
answers (the first importer's shape), the 202 path through the commit task,
and the 400s for bad input."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import Account, Import, ImportJob, ImportRow, Transaction, TransactionChange
from merchants.categories import Category
from tests.ledger.factories import AccountFactory, TransactionFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/transactions/import"
CSV = "date,amount,merchant\n2024-03-05,4.50,Corner Cafe\n2024-03-05,4.50,Corner Cafe\n2024-03-06,12.00,Book Shop\n"


def post(client, content, **fields):
    data = content.encode() if isinstance(content, str) else content
    return client.post(URL, {"file": SimpleUploadedFile("t.csv", data, "text/csv"), **fields}, format="multipart")


def stored(user, **filters):
    rows = Transaction.objects.filter(user=user, is_deleted=False, **filters).order_by("date", "merchant_raw", "amount")
    return [(str(t.date), t.merchant_raw, t.amount, t.currency, t.account.name) for t in rows.select_related("account")]


def error_codes(response):
    return [error["code"] for error in response.json()["errors"]]


def test_a_plain_csv_lands_in_the_default_account_with_positive_as_spending(auth_client, user):
    response = post(auth_client, CSV + "2024-03-07,-20.00,Refund Shop\n")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["imported"], body["duplicates"], body["errors"], body["total"]) == (4, 0, [], 4)
    assert stored(user) == [
        ("2024-03-05", "Corner Cafe", Decimal("4.50"), "USD", "Main USD"),
        ("2024-03-05", "Corner Cafe", Decimal("4.50"), "USD", "Main USD"),
        ("2024-03-06", "Book Shop", Decimal("12.00"), "USD", "Main USD"),
        ("2024-03-07", "Refund Shop", Decimal("-20.00"), "USD", "Main USD"),
    ]
    (ref,) = body["imports"]
    assert body["job_id"] == ref["id"]
    assert (ref["status"], ref["currency"], ref["url"]) == ("committed", "USD", f"/api/v1/imports/{ref['id']}")
    assert set(Transaction.objects.filter(user=user).values_list("source_import_id", flat=True)) == {
        Import.objects.get(pk=ref["id"]).pk
    }
    assert auth_client.get(ref["url"]).json()["counts"]["imported"] == 4


def test_a_bank_export_is_read_with_its_profile_sign(auth_client, user):
    chase = (
        "Transaction Date,Post Date,Description,Category,Type,Amount,Memo\n"
        "01/05/2024,01/06/2024,STARBUCKS STORE 123,Food & Drink,Sale,-4.50,\n"
        "01/07/2024,01/07/2024,Payment Thank You-Mobile,,Payment,500.00,\n"
    )

    response = post(auth_client, chase)

    assert response.status_code == 200, response.content
    rows = {t.merchant_raw: t for t in Transaction.objects.filter(user=user)}
    assert rows["STARBUCKS STORE 123"].amount == Decimal("4.50")
    assert rows["STARBUCKS STORE 123"].bank_category == "Food & Drink"
    assert rows["Payment Thank You-Mobile"].amount == Decimal("-500.00")


def test_sign_option_reads_a_plain_file_in_the_banks_convention(auth_client, user):
    response = post(auth_client, "date,amount,merchant\n2024-03-05,-4.50,Cafe\n", sign="negative_is_out")

    assert response.status_code == 200, response.content
    assert Transaction.objects.get(user=user).amount == Decimal("4.50")


def test_importing_the_same_file_twice_adds_nothing_and_names_the_matches(auth_client, user):
    post(auth_client, CSV)
    first = list(Transaction.objects.filter(user=user).order_by("created_at", "id").values_list("id", flat=True))

    again = post(auth_client, CSV).json()

    assert (again["imported"], again["duplicates"]) == (0, 3)
    assert sorted(s["matched_id"] for s in again["skipped"]) == sorted(str(i) for i in first)
    assert [s["row"] for s in again["skipped"]] == [2, 3, 4]
    assert Transaction.objects.filter(user=user).count() == 3


def test_kth_identical_row_matches_only_the_kth_existing_row_and_force_rows_imports_it(auth_client, user):
    TransactionFactory(user=user, amount=Decimal("4.50"), date="2024-03-05", merchant_raw="Corner Cafe")
    three = "date,amount,merchant\n" + "2024-03-05,4.50,CORNER CAFE\n" * 3

    first = post(auth_client, three).json()
    forced = post(auth_client, three, force_rows="3").json()

    assert (first["imported"], first["duplicates"], [s["row"] for s in first["skipped"]]) == (2, 1, [2])
    assert (forced["imported"], forced["duplicates"]) == (1, 2)
    assert Transaction.objects.filter(user=user, merchant_normalized="corner cafe").count() == 4


def test_external_id_is_matched_exactly_and_a_repeat_names_the_row_written_for_it(auth_client, user):
    TransactionFactory(user=user, external_id="bank-1", amount=Decimal("9.99"), date="2024-03-05")
    content = (
        "date,amount,merchant,external_id\n"
        "2024-03-05,1.00,A,bank-1\n2024-03-05,1.00,A,bank-2\n2024-03-05,1.00,A,bank-2\n"
    )

    body = post(auth_client, content).json()

    written = Transaction.objects.get(user=user, external_id="bank-2")
    assert (body["imported"], body["duplicates"]) == (1, 2)
    assert {s["row"]: s["matched_id"] for s in body["skipped"]} == {
        2: str(Transaction.objects.get(external_id="bank-1").id),
        4: str(written.id),
    }


def test_bad_rows_are_reported_with_their_cell_and_good_rows_kept(auth_client, user):
    content = "date,amount,merchant\n2024-03-05,1.00,A\nnot-a-date,1.00,B\n2024-03-05,lots,C\n2024-03-06,2.00,D\n"

    body = post(auth_client, content).json()

    assert body["imported"] == 2
    assert [(e["row"], e["cell"]) for e in body["errors"]] == [(3, "date"), (4, "amount")]
    assert all(e["message"] for e in body["errors"])
    assert [t[1] for t in stored(user)] == ["A", "D"]


def test_atomic_with_a_bad_row_writes_nothing_and_names_the_row(auth_client, user):
    response = post(auth_client, "date,amount,merchant\n2024-03-05,1.00,A\n2024-03-05,0,B\n", atomic="true")

    assert response.status_code == 400
    body = response.json()
    assert error_codes(response) == ["invalid_rows"]
    assert [(e["row"], e["message"]) for e in body["row_errors"]] == [(3, "Amount is zero.")]
    assert body["imported"] == 0
    assert not Transaction.objects.filter(user=user).exists()
    assert not Import.objects.exists() and not ImportRow.objects.exists()
    assert not Account.objects.filter(user=user).exists()  # the default account it would have made is gone too


def test_tags_column_tags_the_rows_audited_as_the_import(auth_client, user):
    content = "date,amount,merchant,tags\n2024-03-01,9.00,Shop,home;Work\n2024-03-02,3.00,Kiosk,\n"

    body = post(auth_client, content).json()

    tagged = Transaction.objects.get(user=user, merchant_raw="Shop")
    assert sorted(tagged.tags.values_list("name", flat=True)) == ["Work", "home"]
    assert not Transaction.objects.get(user=user, merchant_raw="Kiosk").tags.exists()
    change = TransactionChange.objects.get(transaction=tagged, field="tags")
    assert (change.by, str(change.import_ref), sorted(change.new)) == ("import", body["job_id"], ["Work", "home"])
    assert auth_client.get("/api/v1/transactions", {"tag": "work"}).json()["results"][0]["merchant_raw"] == "Shop"


def test_rows_go_to_their_currencys_default_account(auth_client, user):
    euro = AccountFactory(user=user, name="Girokonto", currency="EUR", is_default=True)
    content = (
        "date,amount,merchant,currency\n2024-03-01,5.00,Diner,USD\n2024-03-02,7.00,Bäcker,EUR\n2024-03-03,2,Bus,\n"
    )

    response = post(auth_client, content)

    assert response.status_code == 200, response.content
    body = response.json()
    assert stored(user) == [
        ("2024-03-01", "Diner", Decimal("5.00"), "USD", "Main USD"),
        ("2024-03-02", "Bäcker", Decimal("7.00"), "EUR", "Girokonto"),
        ("2024-03-03", "Bus", Decimal("2.00"), "USD", "Main USD"),
    ]
    assert [(ref["currency"], ref["account"]) for ref in body["imports"]][1] == ("EUR", str(euro.id))
    assert (body["imported"], body["total"]) == (3, 3)


def test_a_currency_with_no_account_is_a_400_naming_the_row_and_nothing_is_written(auth_client, user):
    content = "date,amount,merchant,currency\n2024-03-01,5.00,Diner,USD\n2024-03-02,7.00,Pub,GBP\n"

    response = post(auth_client, content)

    assert response.status_code == 400
    assert error_codes(response) == ["no_account_for_currency"]
    body = response.json()
    assert (body["row"], body["currency"], body["errors"][0]["attr"]) == (3, "GBP", "file")
    assert "Row 3" in body["errors"][0]["detail"] and "GBP" in body["errors"][0]["detail"]
    assert not Transaction.objects.exists() and not Import.objects.exists()
    assert not Account.objects.filter(user=user).exists()


def test_an_explicit_account_takes_its_currency_only(auth_client, user):
    card = AccountFactory(user=user, name="Visa", currency="USD", kind="credit_card")
    content = "date,amount,merchant,currency\n2024-03-01,5.00,Diner,USD\n2024-03-02,7.00,Pub,GBP\n"

    body = post(auth_client, content, account=str(card.id)).json()

    assert body["imported"] == 1
    assert [(e["row"], e["cell"]) for e in body["errors"]] == [(3, "currency")]
    assert stored(user) == [("2024-03-01", "Diner", Decimal("5.00"), "USD", "Visa")]


def test_merchants_corrections_and_explicit_categories_apply_and_the_import_is_announced_once(
    auth_client, user, events, django_capture_on_commit_callbacks
):
    MerchantFactory(canonical_name="Corner Cafe", category=Category.FOOD_DINING)
    corrected = TransactionFactory(user=user, merchant_raw="Joe's Deli", category=Category.SHOPPING)
    auth_client.post("/api/v1/transactions/correct", {"transaction_id": str(corrected.id),
                                                      "new_category": Category.GROCERIES}, format="json")  # fmt: skip
    events.clear()
    content = (
        "date,amount,merchant,category\n2024-03-05,4.50,Corner Cafe,\n2024-03-06,12.00,Book Shop,Travel\n"
        "2024-03-07,3.00,Book Shop,\n2024-03-08,6.00,JOE'S DELI,\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        body = post(auth_client, content).json()

    rows = Transaction.objects.filter(user=user, source_import__isnull=False).select_related("merchant")
    assert {(t.merchant_raw, t.merchant and t.merchant.canonical_name, t.category) for t in rows} == {
        ("Corner Cafe", "Corner Cafe", Category.FOOD_DINING),
        ("Book Shop", None, Category.TRAVEL),
        ("Book Shop", None, Category.UNCATEGORIZED),
        ("JOE'S DELI", None, Category.GROCERIES),
    }
    assert [e["action"] for e in events] == ["imported"]
    assert len(events[0]["transaction_ids"]) == body["imported"] == 4


def test_a_large_file_answers_202_and_the_task_commits_it(
    auth_client, user, settings, celery_eager, django_capture_on_commit_callbacks
):
    settings.LEDGER_IMPORT_ASYNC_ROWS = 2
    content = (
        "date,amount,merchant,tags\n2024-03-05,4.50,Corner Cafe,x\n2024-03-05,4.50,Corner Cafe,x\n"
        "2024-03-06,12.00,Book Shop,\n2024-03-07,1.00,Bus,x\n"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post(auth_client, content)

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["id"] == body["job_id"] == body["imports"][0]["id"]
    assert body["url"] == f"/api/v1/imports/{body['id']}"
    assert body["total"] == 4
    polled = auth_client.get(body["url"]).json()
    assert (polled["status"], polled["counts"]["imported"], polled["processed"]) == ("committed", 4, 4)
    assert len(stored(user)) == 4
    assert Transaction.objects.filter(user=user, tags__name="x").count() == 3
    old_poll = auth_client.get(f"{URL}/{body['id']}").json()
    assert (old_poll["status"], old_poll["summary"]["imported"], old_poll["processed"]) == ("completed", 4, 4)


def test_a_one_call_import_is_reverted_like_any_import(auth_client, user):
    body = post(auth_client, CSV).json()

    reverted = auth_client.delete(body["imports"][0]["url"])

    assert reverted.status_code == 200, reverted.content
    assert stored(user) == []


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),  # the upload itself (the serializer's FileField)
        (b" \n", "empty_file"),
        (b"date,amount,merchant\n", "no_rows"),
        (b"when,how much,who\n2024-01-01,1,A\n", "bad_header"),
        (b"%PDF-1.7\n%binary statement", "unknown_format"),
        (b"date,amount,merchant\n03/05/2024,1,A\n", "ambiguous_dates"),
    ],
)
def test_a_bad_file_is_a_400_in_the_error_shape_and_writes_nothing(auth_client, user, content, code):
    response = post(auth_client, content)

    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert error_codes(response) == [code]
    assert response.json()["errors"][0]["attr"] == "file"
    assert not Import.objects.exists() and not Account.objects.filter(user=user).exists()


def test_the_status_of_a_job_of_the_first_importer_is_still_answered(auth_client, other_client, user):
    job = ImportJob.objects.create(user=user, filename="old.csv", status="completed", total=3, processed=3,
                                   summary={"imported": 3})  # fmt: skip

    mine = auth_client.get(f"{URL}/{job.id}")
    theirs = other_client.get(f"{URL}/{job.id}")

    assert mine.status_code == 200
    assert (mine.json()["status"], mine.json()["summary"], mine.json()["filename"]) == ("completed", {"imported": 3},
                                                                                       "old.csv")  # fmt: skip
    assert theirs.status_code == 404
