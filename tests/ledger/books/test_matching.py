"""Transfer matching over many new rows at once (an import): one set-based
pass gives each pair the verdict the one-row rules give it, in a number of
statements that does not grow with the rows."""

import datetime
from decimal import Decimal

import pytest

from ledger.books.matching import transfers_match
from ledger.models import Transaction, Transfer, TransferSuggestion
from tests.accounts.factories import UserFactory
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 10)


@pytest.fixture
def accounts(user):
    return {
        kind: AccountFactory(user=user, name=kind.title(), kind=kind, currency="USD")
        for kind in ("checking", "credit_card", "savings")
    }


def _row(user, account, amount, day=DAY, **extra):
    return TransactionFactory(user=user, account=account, amount=Decimal(amount), date=day, **extra)


def _pairs(queryset):
    return set(queryset.values_list("out_leg_id", "in_leg_id"))


def test_a_batch_links_the_unambiguous_pairs_and_suggests_the_rest(user, accounts, django_assert_max_num_queries):
    checking, card, savings = accounts["checking"], accounts["credit_card"], accounts["savings"]
    # Already in the ledger before the import.
    card_payment = _row(user, card, "-50.00", DAY + datetime.timedelta(days=2))
    twin_a, twin_b = _row(user, card, "-70.00"), _row(user, savings, "-70.00")
    shared = _row(user, card, "-30.00")
    shared_rival = _row(user, savings, "30.00", DAY + datetime.timedelta(days=1))  # another candidate of `shared`
    rejected_other = _row(user, card, "-15.00")
    _row(user, card, "-60.00", DAY + datetime.timedelta(days=5))  # five days away
    _row(user, card, "-61.00", is_deleted=True)
    _row(user, checking, "-62.00")  # same account as its seed
    other_user = UserFactory()
    _row(other_user, AccountFactory(user=other_user, currency="USD"), "-64.00")
    # The import's rows.
    seeds = {
        "unique": _row(user, checking, "50.00"),
        "two_candidates": _row(user, checking, "70.00"),
        "shared": _row(user, checking, "30.00"),
        "pair_out": _row(user, checking, "20.00"),
        "pair_in": _row(user, card, "-20.00", DAY + datetime.timedelta(days=1)),  # both legs in the batch
        "rejected": _row(user, checking, "15.00"),
        "five_days": _row(user, checking, "60.00"),
        "deleted_only": _row(user, checking, "61.00"),
        "same_account": _row(user, checking, "62.00"),
        "other_user": _row(user, checking, "64.00"),
    }
    TransferSuggestion.objects.create(
        user=user, out_leg=seeds["rejected"], in_leg=rejected_other, status=TransferSuggestion.Status.REJECTED
    )

    with django_assert_max_num_queries(12):
        outcome = transfers_match(user=user, transaction_ids=[row.id for row in seeds.values()], created_by="import")

    assert _pairs(Transfer.objects.filter(user=user)) == {
        (seeds["unique"].id, card_payment.id),
        (seeds["pair_out"].id, seeds["pair_in"].id),
    }
    assert len(outcome.transfers) == 2
    assert outcome.touched_ids == {seeds["unique"].id, card_payment.id, seeds["pair_out"].id, seeds["pair_in"].id}
    assert _pairs(TransferSuggestion.objects.filter(user=user, status="open")) == {
        (seeds["two_candidates"].id, twin_a.id),
        (seeds["two_candidates"].id, twin_b.id),
        (seeds["shared"].id, shared.id),  # ambiguous through its counterpart's other candidate
    }
    assert outcome.suggestions == 3
    linked = Transaction.objects.get(pk=card_payment.pk)
    assert (linked.kind, linked.category) == ("transfer", "Transfers")
    assert Transaction.objects.get(pk=shared_rival.pk).kind == "standard"


def test_matching_the_same_rows_again_adds_nothing(user, accounts):
    checking, card, savings = accounts["checking"], accounts["credit_card"], accounts["savings"]
    seed = _row(user, checking, "70.00")
    _row(user, card, "-70.00")
    _row(user, savings, "-70.00")
    first = transfers_match(user=user, transaction_ids=[seed.id])

    again = transfers_match(user=user, transaction_ids=[seed.id])

    assert (first.suggestions, again.suggestions) == (2, 0)
    assert TransferSuggestion.objects.filter(user=user).count() == 2
