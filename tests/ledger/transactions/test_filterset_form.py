import pytest

from ledger.models import Transaction
from ledger.transactions.filters import TransactionFilterSet
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def test_the_form_class_is_built_once_and_each_request_validates_its_own_values():
    good = TransactionFilterSet(data={"category": "Groceries"}, queryset=Transaction.objects.all())
    bad = TransactionFilterSet(data={"category": "Nonsense", "limit": "5"}, queryset=Transaction.objects.all())

    assert good.is_valid() and not bad.is_valid()
    assert type(good.form) is type(bad.form)
    assert good.form is not bad.form
    assert set(bad.errors) == {"category"} and not good.errors
    assert good.form.cleaned_data["category"] == "Groceries"


def test_a_list_without_filter_parameters_is_the_unfiltered_newest_first_list(auth_client, user):
    rows = TransactionFactory.create_batch(3, user=user)
    body = auth_client.get("/api/v1/transactions", {"limit": 2}).json()
    expected = sorted(rows, key=lambda tx: (tx.date, tx.id), reverse=True)[:2]
    assert (body["count"], [r["id"] for r in body["results"]]) == (3, [str(tx.id) for tx in expected])
    assert auth_client.get("/api/v1/transactions", {"category": "Nonsense"}).status_code == 400
