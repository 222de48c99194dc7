import datetime
from decimal import Decimal

import pytest

from config.exceptions import Conflict, DomainError
from ledger.books import selectors, services
from ledger.books.guards import account_default
from ledger.models import Account, Transaction, Transfer, TransferSuggestion
from ledger.transactions import services as tx_services
from merchants.categories import Category
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 10)


@pytest.fixture
def checking(user):
    return services.account_create(user=user, name="Checking", kind="checking", currency="USD", is_default=True)


@pytest.fixture
def card(user):
    return services.account_create(user=user, name="Visa", kind="credit_card", currency="USD")


def add(user, account, amount, day=DAY, merchant="Shop", **kw):
    return tx_services.transaction_create(
        user=user, account=account, amount=Decimal(amount), date=day, merchant_raw=merchant, allow_duplicate=True, **kw
    )


def test_account_kind_gives_asset_or_liability(checking, card):
    assert (checking.classification, card.classification) == ("asset", "liability")


def test_account_name_is_unique_per_user_case_insensitive(user, checking, other_user):
    with pytest.raises(Conflict) as exc:
        services.account_create(user=user, name="CHECKING", currency="USD")
    assert exc.value.code == "name_taken"
    assert services.account_create(user=other_user, name="Checking", currency="USD").name == "Checking"


@pytest.mark.parametrize(
    "fields, code",
    [
        ({"currency": "XYZ"}, "invalid_currency"),
        ({"iban": "DE00 1234 5678 9012 3456 78"}, "invalid_iban"),
        ({"number_mask": "12a4"}, "invalid_number_mask"),
        ({"name": "   "}, "blank"),
    ],
)
def test_account_create_refuses_bad_fields(user, fields, code):
    with pytest.raises(DomainError) as exc:
        services.account_create(user=user, **{"name": "A", "currency": "EUR", **fields})
    assert exc.value.code == code


def test_iban_is_stored_compact(user):
    account = services.account_create(user=user, name="Giro", currency="EUR", iban="de89 3704 0044 0532 0130 00")
    assert account.iban == "DE89370400440532013000"


def test_one_default_per_user_and_currency(user, checking):
    second = services.account_create(user=user, name="Other", currency="USD", is_default=True)
    checking.refresh_from_db()
    assert (second.is_default, checking.is_default) == (True, False)


def test_transaction_without_account_goes_to_a_new_default_account(user):
    tx = tx_services.transaction_create(user=user, amount=Decimal("5"), date=DAY, merchant_raw="Cafe", currency="EUR")
    assert tx.account.is_default and tx.account.currency == "EUR" and tx.currency == "EUR"
    again = tx_services.transaction_create(
        user=user, amount=Decimal("6"), date=DAY, merchant_raw="Cafe", currency="EUR"
    )
    assert again.account_id == tx.account_id


def test_transaction_currency_must_equal_the_account_currency(user, checking):
    with pytest.raises(DomainError) as exc:
        add(user, checking, "5", currency="EUR")
    assert exc.value.code == "currency_mismatch"


def test_closed_account_refuses_new_transactions(user, checking):
    add(user, checking, "5")
    services.account_delete(account=checking, force=True)
    with pytest.raises(Conflict) as exc:
        add(user, Account.objects.get(pk=checking.pk), "5")
    assert exc.value.code == "account_closed"


def test_delete_removes_an_empty_account_and_closes_one_with_rows(user, checking, card):
    assert services.account_delete(account=card) is None
    assert not Account.objects.filter(pk=card.pk).exists()
    add(user, checking, "5")
    with pytest.raises(Conflict) as exc:
        services.account_delete(account=checking)
    assert exc.value.code == "non_zero_balance"
    closed = services.account_delete(account=checking, force=True)
    assert closed.closed_at is not None and not closed.is_default
    add(user, account_default(user=user, currency="USD"), "1")  # a fresh default takes its place


def test_balance_is_opening_minus_live_amounts(user):
    account = services.account_create(user=user, name="Savings", currency="USD", opening_balance=Decimal("100"))
    first = add(user, account, "30")
    add(user, account, "-10.50", merchant="Refund")
    assert selectors.account_balance(account) == Decimal("80.50")
    tx_services.transaction_delete(transaction=first, user=user)
    assert selectors.account_balance(account) == Decimal("110.50")
    tx_services.transaction_restore(transaction=first, user=user)
    assert selectors.account_balance(account) == Decimal("80.50")


def test_card_payment_is_matched_as_a_transfer(user, checking, card, events, django_capture_on_commit_callbacks):
    purchase = add(user, card, "40", merchant="Grocer", category=Category.GROCERIES)
    card_side = add(user, card, "-40", merchant="Payment thank you", day=DAY + datetime.timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        bank_side = add(user, checking, "40", merchant="VISA PAYMENT", day=DAY + datetime.timedelta(days=3))
    bank_side.refresh_from_db()
    card_side.refresh_from_db()
    purchase.refresh_from_db()
    transfer = Transfer.objects.get()
    assert (transfer.out_leg_id, transfer.in_leg_id, transfer.created_by) == (bank_side.id, card_side.id, "match")
    assert bank_side.kind == card_side.kind == Transaction.Kind.TRANSFER
    assert bank_side.category == Category.TRANSFERS and purchase.kind == Transaction.Kind.STANDARD
    assert events[-1]["categories"] >= {Category.TRANSFERS} and set(events[-1]["transaction_ids"]) == {
        bank_side.id,
        card_side.id,
    }


def test_two_equal_candidates_are_suggested_not_linked(user, checking, card):
    savings = services.account_create(user=user, name="Savings", currency="USD")
    add(user, card, "-25", merchant="Payment")
    add(user, savings, "-25", merchant="Deposit")
    out = add(user, checking, "25", merchant="Move")
    assert not Transfer.objects.exists()
    assert set(TransferSuggestion.objects.values_list("out_leg_id", flat=True)) == {out.id}
    assert TransferSuggestion.objects.count() == 2


def test_a_leg_is_never_linked_twice(user, checking, card):
    add(user, card, "-25", merchant="Payment")
    add(user, checking, "25", merchant="Pay 1")
    add(user, checking, "25", merchant="Pay 2")  # the card row is already a leg
    assert Transfer.objects.count() == 1
    assert not TransferSuggestion.objects.exists()


def test_rejected_pair_is_never_suggested_again(user, checking, card):
    savings = services.account_create(user=user, name="Savings", currency="USD")
    add(user, card, "-25", merchant="Payment")
    add(user, savings, "-25", merchant="Deposit")
    out = add(user, checking, "25", merchant="Move")
    rejected = TransferSuggestion.objects.filter(in_leg__account=savings).get()
    services.suggestion_reject(suggestion=rejected)
    # The other suggestion is now the only candidate for a re-run; the rejected pair stays rejected.
    from ledger.books.matching import transfers_match

    outcome = transfers_match(user=user, transaction_ids=[out.id])
    assert len(outcome.transfers) == 1 and outcome.transfers[0].in_leg.account_id == card.id
    rejected.refresh_from_db()
    assert rejected.status == "rejected"


def test_transfer_create_makes_two_legs_that_are_not_spending(user, checking, card):
    transfer = services.transfer_create(
        user=user, from_account=checking, to_account=card, amount=Decimal("100"), date=DAY
    )
    assert (transfer.out_leg.amount, transfer.in_leg.amount) == (Decimal("100"), Decimal("-100"))
    assert transfer.out_leg.account_id == checking.id and transfer.in_leg.account_id == card.id
    assert selectors.account_balance(checking) == Decimal("-100") and selectors.account_balance(card) == Decimal("100")
    from ledger.transactions.selectors import category_totals

    assert category_totals(user=user, since=DAY, until=DAY) == {}


def test_cross_currency_transfer_needs_to_amount(user, checking):
    euro = services.account_create(user=user, name="Euro", currency="EUR")
    with pytest.raises(DomainError) as exc:
        services.transfer_create(user=user, from_account=checking, to_account=euro, amount=Decimal("100"), date=DAY)
    assert exc.value.code == "to_amount_required"
    transfer = services.transfer_create(
        user=user, from_account=checking, to_account=euro, amount=Decimal("100"), to_amount=Decimal("91.20"), date=DAY
    )
    assert (transfer.in_leg.amount, transfer.in_leg.currency) == (Decimal("-91.20"), "EUR")


@pytest.mark.parametrize("amount, code", [("0", "amount_not_positive"), ("-5", "amount_not_positive")])
def test_transfer_refuses_zero_and_negative(user, checking, card, amount, code):
    with pytest.raises(DomainError) as exc:
        services.transfer_create(user=user, from_account=checking, to_account=card, amount=Decimal(amount), date=DAY)
    assert exc.value.code == code


def test_transfer_refuses_same_account_and_foreign_account(user, checking, other_user):
    with pytest.raises(DomainError) as exc:
        services.transfer_create(user=user, from_account=checking, to_account=checking, amount=Decimal(1), date=DAY)
    assert exc.value.code == "same_account"
    foreign = AccountFactory(user=other_user)
    with pytest.raises(DomainError) as exc:
        services.transfer_create(user=user, from_account=checking, to_account=foreign, amount=Decimal(1), date=DAY)
    assert exc.value.code == "foreign_account"


def test_editing_one_leg_moves_the_other(user, checking, card):
    transfer = services.transfer_create(user=user, from_account=checking, to_account=card, amount=Decimal(50), date=DAY)
    later = DAY + datetime.timedelta(days=1)
    tx_services.transaction_update(transaction=transfer.out_leg, user=user, amount=Decimal("60"), date=later)
    transfer.in_leg.refresh_from_db()
    assert (transfer.in_leg.amount, transfer.in_leg.date) == (Decimal("-60"), later)


def test_unlink_gives_back_the_earlier_categories(user, checking, card):
    card_side = add(user, card, "-40", merchant="Payment", category=Category.BILLS_UTILITIES)
    add(user, checking, "40", merchant="Card payment", category=Category.SHOPPING)
    transfer = Transfer.objects.get()
    services.transfer_delete(transfer=transfer, user=user)
    card_side.refresh_from_db()
    assert (card_side.kind, card_side.category, card_side.transfer_id) == ("standard", Category.BILLS_UTILITIES, None)


def test_deleting_a_leg_of_a_user_transfer_deletes_both(user, checking, card):
    transfer = services.transfer_create(user=user, from_account=checking, to_account=card, amount=Decimal(5), date=DAY)
    tx_services.transaction_delete(transaction=transfer.out_leg, user=user)
    assert Transaction.objects.filter(is_deleted=False).count() == 0
    assert not Transfer.objects.exists()


def test_deleting_a_matched_leg_unlinks_the_other(user, checking, card):
    card_side = add(user, card, "-40", merchant="Payment")
    bank_side = add(user, checking, "40", merchant="Card payment")
    tx_services.transaction_delete(transaction=Transaction.objects.get(pk=bank_side.pk), user=user)
    card_side.refresh_from_db()
    assert (card_side.is_deleted, card_side.kind) == (False, "standard")


def test_reconcile_adds_one_adjustment_and_locks_rows(user, card):
    purchase = add(user, card, "40")
    add(user, card, "10", day=DAY + datetime.timedelta(days=30))  # after the statement: untouched
    answer = services.account_reconcile(account=card, user=user, date=DAY, balance=Decimal("-45.00"))
    assert (answer["balance_before"], answer["difference"], answer["reconciled_count"]) == (
        Decimal("-40.00"),
        Decimal("-5.00"),
        2,
    )
    adjustment = Transaction.objects.get(pk=answer["adjustment_id"])
    assert (adjustment.kind, adjustment.amount) == ("adjustment", Decimal("5.00"))
    assert selectors.account_balance(card, on=DAY) == Decimal("-45.00")
    with pytest.raises(Conflict) as exc:
        tx_services.transaction_update(transaction=purchase, user=user, amount=Decimal("41"))
    assert exc.value.code == "reconciled"
    tx_services.transaction_update(transaction=purchase, user=user, notes="fine")  # notes stay editable


def test_reconcile_undo_restores_the_rows(user, card):
    purchase = add(user, card, "40")
    answer = services.account_reconcile(account=card, user=user, date=DAY, balance=Decimal("-45.00"))
    undone = services.reconciliation_undo(account=card, user=user)
    assert undone["unreconciled_count"] == 2
    purchase.refresh_from_db()
    assert purchase.reconciled_at is None
    assert Transaction.objects.get(pk=answer["adjustment_id"]).is_deleted
    assert selectors.account_balance(card) == Decimal("-40.00")
    with pytest.raises(Conflict):
        services.reconciliation_undo(account=card, user=user)


def test_reconcile_without_difference_adds_no_row(user, card):
    add(user, card, "40")
    answer = services.account_reconcile(account=card, user=user, date=DAY, balance=Decimal("-40"))
    assert answer["difference"] == 0 and answer["adjustment_id"] is None


def test_factory_rows_land_in_the_default_account(user):
    tx = TransactionFactory(user=user, currency="GBP")
    assert tx.account.is_default and tx.account.currency == "GBP"


def test_deleting_a_leg_of_a_pair_the_user_matched_unlinks_the_other(user, checking, card):
    card_side = add(user, card, "-40", merchant="Payment", category=Category.BILLS_UTILITIES)
    late = DAY + datetime.timedelta(days=10)  # too far apart for matching: the user links them
    bank_side = add(user, checking, "40", day=late, merchant="Card payment", category=Category.SHOPPING)
    assert not Transfer.objects.exists()
    transfer = services.transfer_match(user=user, out_id=bank_side.id, in_id=card_side.id)
    assert transfer.created_by == "match"

    tx_services.transaction_delete(transaction=Transaction.objects.get(pk=bank_side.pk), user=user)

    card_side.refresh_from_db()
    assert (card_side.is_deleted, card_side.kind, card_side.transfer_id) == (False, "standard", None)
    assert card_side.category == Category.BILLS_UTILITIES
    assert not Transfer.objects.exists()
