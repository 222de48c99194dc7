"""Keys without database constraints (tag pairs, corrections): the rows a
bulk edit writes still go with their transaction, through the ORM."""

import pytest

from accounts.models import User
from ledger.models import CategoryCorrection, Transaction, TransactionChange, TransactionTag
from ledger.transactions.bulk import transactions_bulk_edit
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def test_a_bulk_edits_pairs_and_corrections_go_with_their_user_and_transactions():
    user, other = UserFactory(), UserFactory()
    rows = [TransactionFactory(user=user, category="Shopping") for _ in range(3)]
    kept = TransactionFactory(user=other, category="Shopping")
    transactions_bulk_edit(user=other, ids=[kept.id], set={"category": "Travel", "tags_add": ["trip"]})

    result = transactions_bulk_edit(user=user, ids=[tx.id for tx in rows],
                                    set={"category": "Groceries", "tags_add": ["food", "weekly"]})  # fmt: skip

    assert result["changed"] == {"category": 3, "notes": 0, "tags": 3, "account": 0}
    ids = [tx.id for tx in rows]
    assert TransactionTag.objects.filter(transaction_id__in=ids).count() == 6
    assert CategoryCorrection.objects.filter(transaction_id__in=ids, new_category="Groceries").count() == 3
    assert set(Transaction.objects.filter(id__in=ids).values_list("category", flat=True)) == {"Groceries"}

    User.objects.filter(pk=user.pk).delete()

    assert not Transaction.objects.filter(id__in=ids).exists()
    assert not TransactionTag.objects.filter(transaction_id__in=ids).exists()
    assert not CategoryCorrection.objects.filter(transaction_id__in=ids).exists()
    # The other user's rows are untouched.
    assert TransactionTag.objects.filter(transaction=kept).count() == 1
    assert CategoryCorrection.objects.filter(transaction=kept).count() == 1
    assert TransactionChange.objects.filter(transaction_id=kept.id).count() == 2
