"""The list's SQL (ledger/transactions/list_sql.py) against the FilterSet's
queryset, the ORM's statement of the same filters: for every filter, alone
and combined, in every ordering, the same rows, in the same order, with the
same values and the same count, at a shallow offset, a deep one and through
the cursor."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.http import QueryDict

from ledger.models import Attachment, Tag, Transaction
from ledger.transactions import selectors
from ledger.transactions.serializers import transaction_row
from merchants.categories import Category
from tests.ledger.factories import AccountFactory, TransactionFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions"
DAY = datetime.date(2026, 3, 1)


@pytest.fixture
def ledger(user, other_user):
    """Rows that tell every filter apart: dates, amounts, categories, sources,
    kinds, merchants, accounts, notes, anomaly scores (none too), tags (mixed
    case), attachments, a deleted row and another user's twins."""
    savings = AccountFactory(user=user, name="Savings")
    coffee = MerchantFactory(canonical_name="Coffee Roasters", category=Category.FOOD_DINING)
    rows = []
    for i in range(24):
        rows.append(
            TransactionFactory(
                user=user,
                date=DAY - datetime.timedelta(days=i % 9),  # ties on the date: id decides
                amount=Decimal(("-" if i % 5 == 0 else "") + f"{(i * 7) % 40 + 1}.{i % 10}0"),
                category=[Category.GROCERIES, Category.FOOD_DINING, Category.TRAVEL][i % 3],
                source=[Transaction.Source.MANUAL, Transaction.Source.CSV][i % 2],
                kind=[Transaction.Kind.STANDARD, Transaction.Kind.TRANSFER][int(i % 7 == 0)],
                merchant_raw=["Coffee shop downtown", "Rail ticket", "Corner market"][i % 3],
                merchant=coffee if i % 3 == 0 else None,
                notes="bakery run" if i % 6 == 1 else "",
                anomaly_score=[None, 0.1, 0.5, 0.9][i % 4],
                confidence={"category": 0.5 + i / 100, "method": "rule"} if i % 2 else {},
                **({} if i % 4 else {"account": savings}),
            )
        )
    trip, food = Tag.objects.create(user=user, name="Trip"), Tag.objects.create(user=user, name="food")
    for tx in rows[::2]:
        tx.tags.add(trip)
    for tx in rows[::3]:
        tx.tags.add(food)
    for tx in rows[1::5]:
        Attachment.objects.create(
            transaction=tx, user=user, file=ContentFile(b"x", name="r.txt"), filename="r.txt",
            content_type="text/plain", size=1, sha256="0" * 64, cid="b",
        )  # fmt: skip
    Transaction.objects.filter(pk=rows[3].pk).update(is_deleted=True)
    for tx in rows[:6]:  # someone else's rows, as alike as possible
        TransactionFactory(user=other_user, date=tx.date, amount=tx.amount, category=tx.category, notes=tx.notes)
    return {"savings": savings, "coffee": coffee}


def through_the_orm(user, params: dict, offset: int, limit: int):
    query = QueryDict(mutable=True)
    for name, value in params.items():
        query.setlist(name, value if isinstance(value, list) else [value])
    queryset = selectors.transaction_list(user=user, filters=query)
    rows = selectors.transaction_rows(queryset)[offset : offset + limit]
    return queryset.count(), [transaction_row(row) for row in rows]


def through_the_api(client, params: dict, offset: int, limit: int):
    response = client.get(URL, {**params, "offset": offset, "limit": limit})
    assert response.status_code == 200, response.content
    body = response.json()
    return body["count"], body["results"]


def cases(ledger):
    since, until = str(DAY - datetime.timedelta(days=6)), str(DAY - datetime.timedelta(days=2))
    return [
        {},
        {"since": since},
        {"until": until},
        {"since": since, "until": until, "category": Category.FOOD_DINING},
        {"category": Category.TRAVEL},
        {"source": "csv"},
        {"min_amount": "5"},
        {"max_amount": "12.3"},
        {"min_amount": "-3", "max_amount": "20"},
        {"merchant": str(ledger["coffee"].id)},
        {"account": str(ledger["savings"].id)},
        {"kind": "transfer"},
        {"q": "coffee"},
        {"q": "bakery -rail"},
        {"q": "   "},
        {"anomalous": "true"},
        {"anomalous": "false"},
        {"has_attachments": "true"},
        {"has_attachments": "false"},
        {"tag": "trip"},
        {"tag": ["TRIP", "food"]},
        {"tag": ["trip", "food"], "tag_mode": "all"},
        {"tag": ["trip", "trip"], "tag_mode": "all"},
        {"tag_mode": "all"},
        {"category": Category.GROCERIES, "anomalous": "false", "has_attachments": "false", "tag": "food"},
        {"since": "", "category": ""},
    ]


@pytest.mark.parametrize("ordering", [None, "date", "-date", "amount", "-amount"])
def test_every_filter_lists_and_counts_what_the_filtersets_queryset_does(auth_client, user, ledger, ordering):
    for params in cases(ledger):
        params = {**params, **({"ordering": ordering} if ordering else {})}
        for offset, limit in ((1, 50),):
            expected = through_the_orm(user, params, offset, limit)
            assert through_the_api(auth_client, params, offset, limit) == expected, params
        assert expected[0] or params.get("kind") or params.get("q"), f"a case that lists nothing: {params}"


@pytest.mark.parametrize("ordering", [None, "amount", "-date"])
def test_a_deep_page_of_every_filter_is_the_orms_page(auth_client, user, ledger, monkeypatch, ordering):
    monkeypatch.setattr(selectors, "DEEP_OFFSET", 2)
    for params in cases(ledger):
        params = {**params, **({"ordering": ordering} if ordering else {})}
        assert through_the_api(auth_client, params, 3, 4) == through_the_orm(user, params, 3, 4), params


@pytest.mark.parametrize("ordering", ["date", "-date"])
def test_cursor_pages_walk_the_orms_order(auth_client, user, ledger, ordering):
    for params in cases(ledger):
        params = {**params, "ordering": ordering}
        walked, cursor = [], ""
        while cursor is not None:
            response = auth_client.get(URL, {**params, "cursor": cursor, "limit": 7})
            assert response.status_code == 200, response.content
            walked += response.json()["results"]
            cursor = response.json()["next_cursor"]
        count, everything = through_the_orm(user, params, 0, 100)
        assert walked == everything and len(walked) == count, params


def test_a_filter_on_someone_elses_account_is_a_404_and_a_bad_one_a_400(auth_client, ledger, other_user):
    theirs = AccountFactory(user=other_user)

    assert auth_client.get(URL, {"account": str(theirs.id)}).status_code == 404
    bad = auth_client.get(URL, {"since": "yesterday", "ordering": "merchant"})
    assert bad.status_code == 400
    assert bad.json()["type"] == "validation_error"
    assert {error["attr"] for error in bad.json()["errors"]} == {"since", "ordering"}, bad.json()
