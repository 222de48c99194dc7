import datetime
from decimal import Decimal

import pytest

from config.exceptions import Conflict
from ledger.models import CategoryCorrection
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


@pytest.mark.parametrize(
    "text, notes",
    [("ACME CORP PAYROLL PPD ID: 9876", ""), ("Acme Ltd", "SALARY NOV"), ("Arbeitgeber GmbH", "Gehalt 11/2026"),
     ("Werkgever BV", "Salaris november"), ("DIRECT DEP EMPLOYER", "")],
)  # fmt: skip
def test_money_in_that_says_pay_is_income(user, text, notes):
    tx = _create(user, amount=Decimal("-2500.00"), merchant_raw=text, notes=notes)
    assert (tx.category, tx.confidence["method"]) == (Category.INCOME, "income_wording")


def test_pay_wording_on_money_out_or_a_known_merchant_is_not_income(user):
    assert _create(user, amount=Decimal("25.00"), merchant_raw="PAYROLL SERVICES FEE").category == (
        Category.UNCATEGORIZED
    )
    MerchantFactory(canonical_name="Interest Books", category=Category.SHOPPING)
    refund = _create(user, amount=Decimal("-12.00"), merchant_raw="Interest Books")
    assert refund.category == Category.SHOPPING
    assert _create(user, amount=Decimal("-3.00"), merchant_raw="Balloon shop").category == Category.UNCATEGORIZED


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
