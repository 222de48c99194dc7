"""Past selectors.DEEP_OFFSET a page's ids are chosen before its rows are
read: the same rows, in the same order, with their tags, as a shallow page."""

import pytest

from ledger.models import Tag
from ledger.transactions import selectors
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions"


def page(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    return [(row["id"], row["tags"]) for row in response.json()["results"]]


@pytest.mark.parametrize("ordering", [None, "amount", "-amount", "date"])
def test_a_deep_page_lists_what_a_shallow_one_does(auth_client, user, monkeypatch, ordering):
    rows = TransactionFactory.create_batch(9, user=user)
    trip, food = Tag.objects.create(user=user, name="trip"), Tag.objects.create(user=user, name="food")
    for tx in rows[::2]:
        tx.tags.add(trip, food)
    params = {"ordering": ordering} if ordering else {}
    shallow = page(auth_client, offset=4, limit=3, **params)

    monkeypatch.setattr(selectors, "DEEP_OFFSET", 2)
    deep = page(auth_client, offset=4, limit=3, **params)

    tagged = {str(tx.id) for tx in rows[::2]}
    assert deep == shallow and len(deep) == 3
    assert all(tags == (["food", "trip"] if tx_id in tagged else []) for tx_id, tags in deep)
