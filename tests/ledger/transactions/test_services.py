import datetime
from decimal import Decimal

import pytest

from config.exceptions import Conflict
from ledger.imports import services as import_services
from ledger.models import CategoryCorrection, ImportJob, Transaction
from ledger.transactions import selectors, services
from merchants.categories import Category
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2024, 3, 5)


def _create(user, **kw):
    fields = {"amount": Decimal("4.50"), "date": DAY, "merchant_raw": "Corner Cafe"} | kw
    return services.transaction_create(user=user, **fields)


def test_create_takes_the_matched_merchants_category_and_records_how(user):
    merchant = MerchantFactory(canonical_name="Blue Bottle", category=Category.FOOD_DINING)
    tx = _create(user, merchant_raw="Blue Bottle")
    assert tx.merchant == merchant
    assert tx.category == Category.FOOD_DINING
    assert tx.confidence == {"category": 1.0, "method": "merchant_exact"}
    assert tx.merchant_normalized == "blue bottle"


def test_create_without_a_match_is_uncategorized(user):
    tx = _create(user, merchant_raw="Nobody Knows")
    assert (tx.merchant, tx.category, tx.confidence["method"]) == (None, Category.UNCATEGORIZED, "default")


def test_users_correction_wins_over_the_merchant_category_for_the_next_transaction(user):
    MerchantFactory(canonical_name="Blue Bottle", category=Category.FOOD_DINING)
    first = _create(user, merchant_raw="Blue Bottle")
    services.transaction_correct(transaction=first, user=user, new_category=Category.GROCERIES, reason="beans")
    second = _create(user, merchant_raw="Blue Bottle", date=DAY + datetime.timedelta(days=1))
    assert second.category == Category.GROCERIES
    assert second.confidence == {"category": 0.97, "method": "user_history"}
    other = _create(UserFactory(), merchant_raw="Blue Bottle")
    assert other.category == Category.FOOD_DINING


def test_likely_duplicate_is_a_conflict_with_the_existing_id(user):
    existing = _create(user, merchant_raw="STARBUCKS #1234")
    with pytest.raises(Conflict) as excinfo:
        _create(user, merchant_raw="starbucks #999")
    assert excinfo.value.extra["existing_id"] == str(existing.id)
    assert _create(user, merchant_raw="Starbucks", allow_duplicate=True).id != existing.id


def test_a_deleted_row_is_not_a_duplicate(user):
    existing = _create(user)
    services.transaction_delete(transaction=existing, user=user)
    assert _create(user).id != existing.id


def test_create_announces_once_after_commit(user, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        tx = _create(user, category=Category.TRAVEL)
    assert events == []
    for callback in callbacks:
        callback()
    assert events == [
        {"user_id": user.pk, "categories": {Category.TRAVEL}, "transaction_ids": [tx.id], "action": "created"}
    ]


def test_nothing_is_announced_when_the_write_fails(user, events, django_capture_on_commit_callbacks):
    _create(user)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(Conflict):
            _create(user)
    assert [e["action"] for e in events] == []


def test_category_edit_is_a_correction_and_announces_old_and_new(user, events, django_capture_on_commit_callbacks):
    tx = TransactionFactory(user=user, category=Category.SHOPPING)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_update(transaction=tx, user=user, category=Category.HEALTH, notes="pharmacy")
    tx.refresh_from_db()
    assert (tx.category, tx.notes) == (Category.HEALTH, "pharmacy")
    correction = CategoryCorrection.objects.get(transaction=tx)
    assert (correction.old_category, correction.new_category) == (Category.SHOPPING, Category.HEALTH)
    assert events[-1]["categories"] == {Category.SHOPPING, Category.HEALTH}
    assert events[-1]["action"] == "updated"


def test_merchant_raw_edit_renormalises(user):
    tx = TransactionFactory(user=user, merchant_raw="Old Name")
    services.transaction_update(transaction=tx, user=user, merchant_raw="  NEW Name #42 ")
    tx.refresh_from_db()
    assert (tx.merchant_raw, tx.merchant_normalized) == ("NEW Name #42", "new name")


def test_soft_delete_keeps_the_row_and_restore_brings_it_back(user, events, django_capture_on_commit_callbacks):
    tx = TransactionFactory(user=user)
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_delete(transaction=tx, user=user)
    tx.refresh_from_db()
    assert tx.is_deleted and tx.deleted_at is not None
    assert not selectors.transaction_list(user=user).exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.transaction_restore(transaction=tx, user=user)
    assert list(selectors.transaction_list(user=user)) == [tx]
    assert [e["action"] for e in events] == ["deleted", "restored"]


def test_category_totals_skip_deleted_rows_and_refunds_lower_spending(user):
    TransactionFactory(user=user, amount=Decimal("50.00"), category=Category.SHOPPING, date=DAY)
    TransactionFactory(user=user, amount=Decimal("-20.00"), category=Category.SHOPPING, date=DAY)
    gone = TransactionFactory(user=user, amount=Decimal("100.00"), category=Category.SHOPPING, date=DAY)
    services.transaction_delete(transaction=gone, user=user)
    assert selectors.category_totals(user=user, since=DAY, until=DAY) == {Category.SHOPPING: Decimal("30.00")}


CSV = "date,amount,merchant\n2024-03-05,4.50,Corner Cafe\n2024-03-05,4.50,Corner Cafe\n2024-03-06,12.00,Book Shop\n"


def test_identical_rows_in_one_file_are_all_imported(user):
    result = import_services.transactions_import(user=user, content=CSV)
    assert (result.imported, result.duplicates, result.errors) == (3, 0, [])
    assert Transaction.objects.filter(user=user, merchant_normalized="corner cafe", source="csv").count() == 2


def test_importing_the_same_file_twice_adds_nothing_and_names_the_matches(user):
    import_services.transactions_import(user=user, content=CSV)
    first_ids = list(Transaction.objects.filter(user=user).order_by("created_at", "id").values_list("id", flat=True))
    again = import_services.transactions_import(user=user, content=CSV)
    assert (again.imported, again.duplicates) == (0, 3)
    assert {s["matched_id"] for s in again.skipped} == {str(i) for i in first_ids}
    assert Transaction.objects.filter(user=user).count() == 3


def test_kth_identical_row_matches_only_the_kth_existing_row(user):
    TransactionFactory(user=user, amount=Decimal("4.50"), date=DAY, merchant_raw="Corner Cafe")
    three = CSV.splitlines()[0] + "\n" + "2024-03-05,4.50,CORNER CAFE\n" * 3
    result = import_services.transactions_import(user=user, content=three)
    assert (result.imported, result.duplicates) == (2, 1)
    assert [s["row"] for s in result.skipped] == [2]


def test_external_id_is_matched_exactly(user):
    TransactionFactory(user=user, external_id="bank-1", amount=Decimal("9.99"), date=DAY)
    content = (
        "date,amount,merchant,external_id\n"
        "2024-03-05,1.00,A,bank-1\n2024-03-05,1.00,A,bank-2\n2024-03-05,1.00,A,bank-2\n"
    )
    result = import_services.transactions_import(user=user, content=content)
    assert (result.imported, result.duplicates) == (1, 2)
    assert Transaction.objects.filter(user=user, external_id="bank-2").count() == 1


def test_force_rows_imports_a_matched_row_anyway(user):
    import_services.transactions_import(user=user, content=CSV)
    result = import_services.transactions_import(user=user, content=CSV, force_rows=[3])
    assert (result.imported, result.duplicates) == (1, 2)
    assert Transaction.objects.filter(user=user, merchant_normalized="corner cafe").count() == 3


def test_bad_rows_are_reported_and_good_rows_kept(user):
    content = "date,amount,merchant\n2024-03-05,1.00,A\nnot-a-date,1.00,B\n2024-03-05,lots,C\n2024-03-06,2.00,D\n"
    result = import_services.transactions_import(user=user, content=content)
    assert result.imported == 2
    assert [e["row"] for e in result.errors] == [3, 4]
    assert Transaction.objects.filter(user=user).count() == 2


def test_atomic_import_with_a_bad_row_writes_nothing(user):
    content = "date,amount,merchant\n2024-03-05,1.00,A\n2024-03-05,0,B\n"
    with pytest.raises(import_services.ImportRejected) as excinfo:
        import_services.transactions_import(user=user, content=content, atomic=True)
    assert excinfo.value.extra["row_errors"] == [{"row": 3, "message": "Amount must not be zero."}]
    assert not Transaction.objects.filter(user=user).exists()


def test_import_matches_each_distinct_merchant_once_and_announces_once(
    user, events, django_capture_on_commit_callbacks
):
    MerchantFactory(canonical_name="Corner Cafe", category=Category.FOOD_DINING)
    with django_capture_on_commit_callbacks(execute=True):
        result = import_services.transactions_import(user=user, content=CSV)
    rows = Transaction.objects.filter(user=user).select_related("merchant")
    assert {(tx.merchant_raw, tx.merchant and tx.merchant.canonical_name, tx.category) for tx in rows} == {
        ("Corner Cafe", "Corner Cafe", Category.FOOD_DINING),
        ("Book Shop", None, Category.UNCATEGORIZED),
    }
    assert len(events) == 1
    assert events[0]["action"] == "imported"
    assert events[0]["categories"] == {Category.FOOD_DINING, Category.UNCATEGORIZED}
    assert len(events[0]["transaction_ids"]) == result.imported == 3


def test_import_uses_corrections_and_explicit_categories(user):
    tx = TransactionFactory(user=user, merchant_raw="Corner Cafe", category=Category.SHOPPING)
    services.transaction_correct(transaction=tx, user=user, new_category=Category.FOOD_DINING)
    content = "date,amount,merchant,category\n2024-01-01,3.00,corner cafe,\n2024-01-02,3.00,Corner Cafe,Travel\n"
    import_services.transactions_import(user=user, content=content)
    rows = Transaction.objects.filter(user=user, source="csv").order_by("date")
    assert [r.category for r in rows] == [Category.FOOD_DINING, Category.TRAVEL]


def test_large_import_runs_as_a_job_on_the_task(user, eager_celery, settings, django_capture_on_commit_callbacks):
    settings.LEDGER_IMPORT_ASYNC_ROWS = 2
    with django_capture_on_commit_callbacks(execute=True):
        job, result = import_services.import_job_create(user=user, content=CSV.encode(), filename="big.csv")
    job.refresh_from_db()
    assert result is None
    assert (job.status, job.total, job.processed, job.content) == (ImportJob.Status.COMPLETED, 3, 3, "")
    assert job.summary["imported"] == 3
    assert import_services.import_job_run(job_id=job.id) == {"job_id": str(job.id), "status": "completed"}
    assert Transaction.objects.filter(user=user).count() == 3


def test_atomic_job_with_bad_rows_fails_without_writing(
    user, eager_celery, settings, django_capture_on_commit_callbacks
):
    settings.LEDGER_IMPORT_ASYNC_ROWS = 1
    content = b"date,amount,merchant\n2024-03-05,1.00,A\n2024-03-05,x,B\n"
    with django_capture_on_commit_callbacks(execute=True):
        job, _ = import_services.import_job_create(user=user, content=content, atomic=True)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.summary["row_errors"][0]["row"] == 3
    assert not Transaction.objects.filter(user=user).exists()
