import csv
import datetime
import io
import json
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import CategoryCorrection, Transaction
from merchants.categories import Category
from tests.ledger.factories import TransactionFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions"
DAY = datetime.date(2024, 3, 5)


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _upload(client, content, **data):
    body = content if isinstance(content, bytes) else content.encode()
    return client.post(
        f"{URL}/import", {"file": SimpleUploadedFile("t.csv", body, "text/csv"), **data}, format="multipart"
    )


def _stream(response):
    return b"".join(response.streaming_content).decode()


@pytest.fixture
def rows(user):
    cafe = MerchantFactory(canonical_name="Corner Cafe", category=Category.FOOD_DINING)
    return {
        "coffee": TransactionFactory(
            user=user,
            date=DAY,
            amount=Decimal("4.50"),
            merchant_raw="Corner Cafe latte",
            merchant=cafe,
            category=Category.FOOD_DINING,
            notes="with oat milk",
        ),
        "rent": TransactionFactory(
            user=user,
            date=DAY - datetime.timedelta(days=4),
            amount=Decimal("1200.00"),
            merchant_raw="Landlord",
            category=Category.HOUSING,
            source="csv",
            anomaly_score=0.9,
        ),
        "refund": TransactionFactory(
            user=user,
            date=DAY + datetime.timedelta(days=2),
            amount=Decimal("-30.00"),
            merchant_raw="Book Shop",
            category=Category.SHOPPING,
            notes="returned novel",
        ),
    }


def test_list_is_newest_first_with_the_merchant_nested(auth_client, rows):
    body = auth_client.get(URL).json()
    assert body["count"] == 3
    assert [r["id"] for r in body["results"]] == [str(rows[k].id) for k in ("refund", "coffee", "rent")]
    coffee = body["results"][1]
    assert coffee["amount"] == "4.50" and coffee["date"] == "2024-03-05"
    assert coffee["merchant"] == {
        "id": str(rows["coffee"].merchant_id),
        "canonical_name": "Corner Cafe",
        "category": "Food & Dining",
    }
    assert body["results"][0]["merchant"] is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"since": "2024-03-05"}, ["refund", "coffee"]),
        ({"until": "2024-03-05"}, ["coffee", "rent"]),
        ({"category": "Housing"}, ["rent"]),
        ({"source": "csv"}, ["rent"]),
        ({"min_amount": "4.50"}, ["coffee", "rent"]),
        ({"max_amount": "0"}, ["refund"]),
        ({"q": "oat"}, ["coffee"]),
        ({"q": "landlord"}, ["rent"]),
        ({"q": "returned novel"}, ["refund"]),
        ({"anomalous": "true"}, ["rent"]),
        ({"anomalous": "false"}, ["refund", "coffee"]),
        ({"since": "2024-03-01", "until": "2024-03-06", "min_amount": "1", "category": "Food & Dining"}, ["coffee"]),
        ({"q": "cafe", "source": "csv"}, []),
        ({"ordering": "amount"}, ["refund", "coffee", "rent"]),
        ({"ordering": "-amount"}, ["rent", "coffee", "refund"]),
        ({"ordering": "date"}, ["rent", "coffee", "refund"]),
    ],
)
def test_filters_alone_and_combined(auth_client, rows, params, expected):
    assert _ids(auth_client.get(URL, params)) == [str(rows[k].id) for k in expected]


def test_merchant_filter(auth_client, rows):
    assert _ids(auth_client.get(URL, {"merchant": str(rows["coffee"].merchant_id)})) == [str(rows["coffee"].id)]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"since": "yesterday"},
        {"category": "Stuff"},
        {"min_amount": "lots"},
        {"merchant": "nope"},
        {"ordering": "merchant"},
        {"anomalous": "maybe"},
    ],
)
def test_bad_query_parameters_are_400(auth_client, rows, params):
    response = auth_client.get(URL, params)
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_pagination_edges(auth_client, user):
    TransactionFactory.create_batch(5, user=user)
    page = auth_client.get(URL, {"limit": 2, "offset": 4}).json()
    assert (page["count"], len(page["results"]), page["next"]) == (5, 1, None)
    beyond = auth_client.get(URL, {"limit": 100, "offset": 50}).json()
    assert (beyond["count"], beyond["results"]) == (5, [])


def test_list_query_count_does_not_grow_with_rows(auth_client, user, django_assert_num_queries):
    merchant = MerchantFactory()
    TransactionFactory.create_batch(3, user=user, merchant=merchant)
    auth_client.get(URL)  # warm the session cache (and count this ledger version)
    with django_assert_num_queries(2):  # ledger version, page (merchant joined)
        small = auth_client.get(URL)
    TransactionFactory.create_batch(40, user=user, merchant=MerchantFactory())
    with django_assert_num_queries(3):  # the rows moved the version: counted again
        large = auth_client.get(URL)
    assert len(small.json()["results"]) == 3 and len(large.json()["results"]) == 43


def test_other_users_transaction_is_404_on_every_verb(auth_client, other_user):
    theirs = TransactionFactory(user=other_user)
    url = f"{URL}/{theirs.id}"
    assert auth_client.get(url).status_code == 404
    assert auth_client.patch(url, {"notes": "x"}).status_code == 404
    assert auth_client.delete(url).status_code == 404
    assert auth_client.post(f"{url}/restore").status_code == 404
    correct = auth_client.post(f"{URL}/correct", {"transaction_id": str(theirs.id), "new_category": "Travel"})
    assert correct.status_code == 404
    assert auth_client.get(f"{URL}/{uuid.uuid4()}").status_code == 404
    assert auth_client.get(f"{URL}/not-a-uuid").status_code == 404
    assert _ids(auth_client.get(URL)) == []
    theirs.refresh_from_db()
    assert (theirs.notes, theirs.is_deleted) == ("", False)


def test_anonymous_is_401(api_client):
    assert api_client.get(URL).status_code == 401


def test_create_then_duplicate_is_409_with_existing_id(auth_client):
    payload = {"amount": "4.50", "date": "2024-03-05", "merchant_raw": "Corner Cafe #12", "notes": "latte"}
    created = auth_client.post(URL, payload)
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["amount"], body["source"], body["category"], body["currency"]) == (
        "4.50",
        "manual",
        "Uncategorized",
        "USD",
    )
    duplicate = auth_client.post(URL, payload | {"merchant_raw": "CORNER CAFE #99"})
    assert duplicate.status_code == 409
    assert duplicate.json()["existing_id"] == body["id"]
    assert duplicate.json()["errors"][0]["code"] == "duplicate"
    assert auth_client.post(URL, payload | {"allow_duplicate": True}).status_code == 201


@pytest.mark.parametrize(
    "payload",
    [
        {"amount": "0", "date": "2024-03-05", "merchant_raw": "A"},
        {"amount": "1.234", "date": "2024-03-05", "merchant_raw": "A"},
        {"amount": "x", "date": "2024-03-05", "merchant_raw": "A"},
        {"amount": "1", "date": "2024-02-30", "merchant_raw": "A"},
        {"amount": "1", "date": "2024-03-05", "merchant_raw": "A", "category": "Stuff"},
        {"amount": "1", "date": "2024-03-05"},
    ],
)
def test_create_refuses_bad_input(auth_client, payload):
    assert auth_client.post(URL, payload).status_code == 400
    assert not Transaction.objects.exists()


def test_patch_edits_fields_and_a_category_change_is_a_correction(auth_client, rows):
    tx = rows["coffee"]
    response = auth_client.patch(f"{URL}/{tx.id}", {"notes": "big", "amount": "5.00", "category": "Groceries"})
    assert response.status_code == 200
    assert (response.json()["amount"], response.json()["notes"], response.json()["category"]) == (
        "5.00",
        "big",
        "Groceries",
    )
    assert CategoryCorrection.objects.filter(transaction=tx, new_category="Groceries").count() == 1


def test_correct_returns_old_and_new_and_teaches_the_next_transaction(auth_client, user, rows):
    tx = rows["coffee"]
    response = auth_client.post(
        f"{URL}/correct", {"transaction_id": str(tx.id), "new_category": "Groceries", "reason": "beans"}
    )
    assert response.status_code == 200
    assert response.json() | {"message": ""} == {
        "message": "",
        "old_category": "Food & Dining",
        "new_category": "Groceries",
    }
    correction = CategoryCorrection.objects.get(transaction=tx)
    assert (correction.user, correction.reason) == (user, "beans")
    again = auth_client.post(f"{URL}/correct", {"transaction_id": str(tx.id), "new_category": "Groceries"})
    assert again.status_code == 400
    nxt = auth_client.post(URL, {"amount": "3.00", "date": "2024-04-01", "merchant_raw": "corner cafe latte"})
    assert nxt.json()["category"] == "Groceries"
    assert nxt.json()["confidence"]["method"] == "user_history"


def test_deleted_rows_vanish_from_list_search_export_and_detail_until_restored(auth_client, rows):
    tx = rows["coffee"]
    assert auth_client.delete(f"{URL}/{tx.id}").status_code == 204
    assert str(tx.id) not in _ids(auth_client.get(URL))
    assert _ids(auth_client.get(URL, {"q": "oat"})) == []
    assert str(tx.id) not in _stream(auth_client.get(f"{URL}/export"))
    assert auth_client.get(f"{URL}/{tx.id}").status_code == 404
    assert auth_client.delete(f"{URL}/{tx.id}").status_code == 404
    tx.refresh_from_db()
    assert tx.deleted_at is not None
    restored = auth_client.post(f"{URL}/{tx.id}/restore")
    assert restored.status_code == 200 and restored.json()["id"] == str(tx.id)
    assert str(tx.id) in _ids(auth_client.get(URL, {"q": "oat"}))


GOOD = (
    "date,amount,merchant,notes\n"
    "2024-03-05,4.50,Corner Cafe,\n"
    "2024-03-05,4.50,Corner Cafe,\n"
    '05.03.2024,"12,00",Book Shop,gift\n'
)


def test_import_good_file_then_reimport_adds_nothing(auth_client, user):
    first = _upload(auth_client, GOOD)
    assert first.status_code == 200, first.content
    assert first.json() | {"job_id": None, "skipped": [], "imports": None} == {
        "job_id": None,
        "imports": None,  # one {id, account, currency, status, url} per account (tests/ledger/imports/test_one_call.py)
        "imported": 3,
        "duplicates": 0,
        "errors": [],
        "skipped": [],
        "total": 3,
        "transfers_matched": 0,
    }
    second = _upload(auth_client, GOOD).json()
    assert (second["imported"], second["duplicates"], [s["row"] for s in second["skipped"]]) == (0, 3, [2, 3, 4])
    assert Transaction.objects.filter(user=user).count() == 3
    forced = _upload(auth_client, GOOD, force_rows="2,4").json()
    assert forced["imported"] == 2


def test_import_mixed_file_reports_bad_rows_and_keeps_good_ones(auth_client, user):
    content = (
        "date,amount,merchant\n2024-03-05,1.00,A\n2024-31-05,1.00,B\n2024-03-05,abc,C\n2024-03-06,2.00,\n"
        "2024-03-07,3,D\n"
    )
    body = _upload(auth_client, content).json()
    assert (body["imported"], body["duplicates"]) == (2, 0)
    assert [e["row"] for e in body["errors"]] == [3, 4, 5]
    assert Transaction.objects.filter(user=user).count() == 2


def test_atomic_import_with_a_bad_row_is_400_and_writes_nothing(auth_client, user):
    content = "date,amount,merchant\n2024-03-05,1.00,A\n2024-03-05,abc,C\n"
    response = _upload(auth_client, content, atomic="true")
    assert response.status_code == 400
    assert response.json()["row_errors"] == [{"row": 3, "message": "Amount 'abc' is not a number.", "cell": "amount"}]
    assert response.json()["imported"] == 0
    assert not Transaction.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"when,how,who\n2024-01-01,1,A\n", "bad_header"),
        (b"\x00\x01\x02\x03" * 64, "unknown_format"),
    ],
)
def test_malformed_files_are_400(auth_client, content, code):
    response = _upload(auth_client, content)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code


def test_a_cp1252_file_is_read_not_refused(auth_client, user):
    response = _upload(auth_client, "date,amount,merchant\n2024-01-01,1,Caf\u00e9\n".encode("cp1252"))
    assert response.status_code == 200, response.content
    assert Transaction.objects.get(user=user).merchant_raw == "Caf\u00e9"


def test_missing_file_is_400(auth_client):
    assert auth_client.post(f"{URL}/import", {}, format="multipart").status_code == 400


def test_file_over_the_size_limit_is_413(auth_client, settings, user):
    settings.LEDGER_IMPORT_MAX_BYTES = 100
    response = _upload(auth_client, GOOD + "2024-03-08,1,X\n" * 10)
    assert response.status_code == 413
    assert not Transaction.objects.filter(user=user).exists()


def test_large_file_answers_202_and_the_job_reports_the_outcome(
    auth_client, other_client, user, settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.LEDGER_IMPORT_ASYNC_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(auth_client, GOOD)
    assert response.status_code == 202
    job_url = f"{URL}/import/{response.json()['id']}"
    job = auth_client.get(job_url).json()
    assert (job["status"], job["total"], job["summary"]["imported"]) == ("completed", 3, 3)
    assert other_client.get(job_url).status_code == 404
    assert Transaction.objects.filter(user=user).count() == 3


def test_export_csv_and_json_follow_the_filters(auth_client, rows):
    response = auth_client.get(f"{URL}/export", {"format": "csv", "since": "2024-03-05"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="transactions-' in response["Content-Disposition"]
    exported = list(csv.DictReader(io.StringIO(_stream(response))))
    assert [r["id"] for r in exported] == [str(rows["refund"].id), str(rows["coffee"].id)]
    assert exported[0]["amount"] == "-30.00"
    as_json = json.loads(_stream(auth_client.get(f"{URL}/export", {"format": "json", "category": "Housing"})))
    assert [r["id"] for r in as_json] == [str(rows["rent"].id)]
    assert auth_client.get(f"{URL}/export", {"format": "xml"}).status_code == 400


def test_export_round_trips_through_import(auth_client, other_client, user, other_user, rows):
    TransactionFactory(user=user, merchant_raw="=HYPERLINK(evil)", notes="-2+3", amount=Decimal("1.00"))
    exported = _stream(auth_client.get(f"{URL}/export"))
    assert "'=HYPERLINK" in exported
    body = _upload(other_client, exported).json()
    assert (body["imported"], body["errors"]) == (4, [])

    def snapshot(owner):
        return sorted(
            Transaction.objects.filter(user=owner).values_list(
                "date", "amount", "currency", "merchant_raw", "category", "notes"
            )
        )

    assert snapshot(other_user) == snapshot(user)
    again = _upload(auth_client, exported).json()
    assert (again["imported"], again["duplicates"]) == (0, 4)
