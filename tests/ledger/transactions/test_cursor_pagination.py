import base64
import datetime

import pytest

from merchants.categories import Category
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions"
DAY = datetime.date(2024, 3, 5)


@pytest.fixture
def rows(user, other_user):
    # Several rows per day so the id tie-break matters; one deleted, one another user's.
    made = [
        TransactionFactory(user=user, date=DAY - datetime.timedelta(days=n // 3), category=Category.GROCERIES)
        for n in range(13)
    ]
    TransactionFactory(user=user, date=DAY, is_deleted=True)
    TransactionFactory(user=other_user, date=DAY)
    return made


def _walk(client, **params):
    ids, cursor, pages = [], "", 0
    while cursor is not None:
        response = client.get(URL, {**params, "cursor": cursor})
        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == {"next_cursor", "results"}
        ids += [row["id"] for row in body["results"]]
        cursor, pages = body["next_cursor"], pages + 1
    return ids, pages


def test_cursor_pages_cover_every_live_row_once_newest_first(auth_client, rows):
    expected = [str(tx.id) for tx in sorted(rows, key=lambda tx: (tx.date, str(tx.id)), reverse=True)]
    ids, pages = _walk(auth_client, limit=5)
    assert ids == expected
    assert pages == 3


def test_cursor_pages_match_the_offset_listing(auth_client, rows):
    offset_ids = [row["id"] for row in auth_client.get(URL, {"limit": 100}).json()["results"]]
    assert _walk(auth_client, limit=4)[0] == offset_ids


def test_cursor_ascending_order_and_filters_apply(auth_client, rows, user):
    TransactionFactory(user=user, date=DAY, category=Category.TRAVEL)
    ids, _ = _walk(auth_client, limit=3, ordering="date", category=Category.GROCERIES)
    expected = [str(tx.id) for tx in sorted(rows, key=lambda tx: (tx.date, str(tx.id)))]
    assert ids == expected


def test_exact_multiple_of_the_limit_ends_with_a_null_cursor(auth_client, user):
    for _ in range(4):
        TransactionFactory(user=user, date=DAY)
    first = auth_client.get(URL, {"cursor": "", "limit": 2}).json()
    second = auth_client.get(URL, {"cursor": first["next_cursor"], "limit": 2}).json()
    assert (len(first["results"]), len(second["results"]), second["next_cursor"]) == (2, 2, None)


def test_without_cursor_the_default_pagination_is_unchanged(auth_client, rows):
    body = auth_client.get(URL, {"limit": 5}).json()
    assert (body["count"], len(body["results"])) == (13, 5)


@pytest.mark.parametrize(
    "params",
    [
        {"cursor": "not-a-cursor"},
        {"cursor": base64.urlsafe_b64encode(b'["2024-13-01","x"]').decode()},
        {"cursor": base64.urlsafe_b64encode(b"{}").decode()},
        {"cursor": "", "ordering": "amount"},
        {"cursor": "", "offset": "10"},
        {"cursor": "", "limit": "101"},
    ],
)
def test_bad_cursor_requests_are_400(auth_client, rows, params):
    response = auth_client.get(URL, params)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
