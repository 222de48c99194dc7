"""The list's count is counted once per ledger version and reused by later
pages; any write to the user's rows, by any path, moves the version."""

import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from ledger.models import Tag, Transaction
from merchants.categories import Category
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/transactions"


def listed(client, **params):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, params)
    assert response.status_code == 200, response.content
    counts = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT COUNT(*)")]
    return response.json()["count"], len(counts)


def test_later_pages_reuse_the_count(auth_client, user):
    TransactionFactory.create_batch(5, user=user)

    assert listed(auth_client, limit=2) == (5, 1)
    assert listed(auth_client, limit=2, offset=2) == (5, 0)
    assert listed(auth_client, limit=2, offset=4) == (5, 0)


def test_a_create_through_the_api_is_counted_on_the_next_page(auth_client, user):
    TransactionFactory.create_batch(2, user=user)
    assert listed(auth_client) == (2, 1)

    created = auth_client.post(URL, {"amount": "4.00", "date": "2024-03-05", "merchant_raw": "Bakery"}, format="json")

    assert created.status_code == 201, created.content
    assert listed(auth_client) == (3, 1)


def test_soft_delete_and_restore_move_the_count(auth_client, user):
    rows = TransactionFactory.create_batch(3, user=user)
    assert listed(auth_client)[0] == 3

    assert auth_client.delete(f"{URL}/{rows[0].id}").status_code == 204
    assert listed(auth_client)[0] == 2
    assert auth_client.post(f"{URL}/{rows[0].id}/restore").status_code == 200
    assert listed(auth_client)[0] == 3


def test_writes_outside_the_orm_move_the_count(auth_client, user):
    first, second = TransactionFactory.create_batch(2, user=user)
    assert listed(auth_client)[0] == 2

    Transaction.objects.filter(pk=first.pk).update(is_deleted=True)  # a queryset update sends no signal
    assert listed(auth_client)[0] == 1
    with connection.cursor() as cursor:  # raw SQL, as COPY and the importers write
        cursor.execute("UPDATE ledger_transaction SET is_deleted = true WHERE id = %s", [second.id])
    assert listed(auth_client)[0] == 0


def test_a_filtered_count_is_cached_apart_and_follows_a_category_change(auth_client, user):
    groceries = TransactionFactory.create_batch(3, user=user, category=Category.GROCERIES)
    TransactionFactory.create_batch(2, user=user, category=Category.TRAVEL)
    assert listed(auth_client, category=Category.GROCERIES) == (3, 1)
    assert listed(auth_client, category=Category.TRAVEL) == (2, 1)
    assert listed(auth_client, category=Category.GROCERIES, offset=2) == (3, 0)

    patched = auth_client.patch(f"{URL}/{groceries[0].id}", {"category": Category.TRAVEL}, format="json")

    assert patched.status_code == 200, patched.content
    assert listed(auth_client, category=Category.GROCERIES)[0] == 2
    assert listed(auth_client, category=Category.TRAVEL)[0] == 3


def test_another_users_writes_leave_the_count_cached(auth_client, user, other_user):
    TransactionFactory.create_batch(2, user=user)
    assert listed(auth_client) == (2, 1)

    TransactionFactory(user=other_user)

    assert listed(auth_client) == (2, 0)


def test_a_tag_filter_is_counted_exactly_every_time(auth_client, user):
    first, second = TransactionFactory.create_batch(2, user=user)
    tag = Tag.objects.create(user=user, name="trip")
    first.tags.add(tag)
    assert listed(auth_client, tag="trip") == (1, 1)

    second.tags.add(tag)  # writes the tag table only: the version does not move

    assert listed(auth_client, tag="trip") == (2, 1)


def test_a_rolled_back_write_never_leaves_its_count_behind(auth_client, user):
    TransactionFactory.create_batch(2, user=user)
    assert listed(auth_client)[0] == 2

    with pytest.raises(RuntimeError), transaction.atomic():
        TransactionFactory(user=user)
        assert listed(auth_client)[0] == 3  # counted (and cached) inside the doomed transaction
        raise RuntimeError("roll back")
    assert listed(auth_client)[0] == 2
    TransactionFactory(user=user, date=datetime.date(2024, 1, 1))

    assert listed(auth_client)[0] == 3


def test_with_redis_down_the_count_is_exact(auth_client, user, redis_away):
    TransactionFactory.create_batch(2, user=user)
    assert listed(auth_client) == (2, 1)
    TransactionFactory(user=user)
    assert listed(auth_client) == (3, 1)


def test_the_count_is_named_by_the_filter_parameters_not_the_page(auth_client, user):
    TransactionFactory.create_batch(3, user=user, category=Category.GROCERIES)
    TransactionFactory.create_batch(2, user=user, category=Category.TRANSPORT)

    assert listed(auth_client, category=Category.GROCERIES, limit=1) == (3, 1)
    assert listed(auth_client, limit=5, offset=1, category=Category.GROCERIES) == (3, 0)
    assert listed(auth_client, category=Category.TRANSPORT) == (2, 1)
    assert listed(auth_client, category=Category.TRANSPORT, ordering="amount") == (2, 1)  # another name, same count
