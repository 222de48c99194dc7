import datetime
from decimal import Decimal

import pytest

from budgets.models import Budget
from ledger.models import CategoryCorrection, Tag, Transaction, TransactionChange
from merchants.categories import Category
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
TX = "/api/v1/transactions"


def _spent(client):
    return {row["category"]: row["spent"] for row in client.get("/api/v1/budgets").json()["results"]}


def test_a_60_40_split_moves_both_budgets_and_removing_it_restores_the_parent(auth_client, user):
    today = datetime.date.today()
    start, end = today.replace(day=1), today.replace(day=28)
    for category in (Category.GROCERIES, Category.SHOPPING):
        Budget.objects.create(user=user, category=category, amount=Decimal("500"), start_date=start, end_date=end)
    tx = TransactionFactory(user=user, amount=Decimal("100.00"), category=Category.GROCERIES, date=start)
    assert _spent(auth_client) == {"Groceries": "100.00", "Shopping": "0.00"}

    lines = [{"amount": "60.00", "category": "Groceries"}, {"amount": "40.00", "category": "Shopping", "notes": "soap"}]
    response = auth_client.put(f"{TX}/{tx.id}/splits", {"lines": lines}, format="json")
    assert response.status_code == 200, response.content
    assert _spent(auth_client) == {"Groceries": "60.00", "Shopping": "40.00"}
    assert auth_client.get(f"{TX}/{tx.id}/splits").json()["lines"][1] == {
        "amount": "40.00",
        "category": "Shopping",
        "notes": "soap",
    }

    assert auth_client.put(f"{TX}/{tx.id}/splits", {"lines": []}, format="json").status_code == 200
    assert _spent(auth_client) == {"Groceries": "100.00", "Shopping": "0.00"}
    fields = list(TransactionChange.objects.filter(transaction=tx).values_list("field", flat=True))
    assert fields == ["splits", "splits"]


def test_lines_that_do_not_add_up_are_a_400_with_the_difference(auth_client, user):
    tx = TransactionFactory(user=user, amount=Decimal("100.00"))
    lines = [{"amount": "60.00", "category": "Groceries"}, {"amount": "39.00", "category": "Shopping"}]
    response = auth_client.put(f"{TX}/{tx.id}/splits", {"lines": lines}, format="json")
    assert response.status_code == 400
    assert response.json()["difference"] == "1.00"
    assert response.json()["errors"][0]["code"] == "split_does_not_add_up"


def test_a_split_of_one_line_is_a_validation_error_on_lines(auth_client, user):
    tx = TransactionFactory(user=user, amount=Decimal("100.00"))
    response = auth_client.put(f"{TX}/{tx.id}/splits", {"lines": [{"amount": "100.00", "category": "Groceries"}]})
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"][0] | {"detail": None} == {"code": "invalid_split", "detail": None, "attr": "lines"}


def test_bulk_tags_and_categorises_a_month_in_one_event(auth_client, user, events, django_capture_on_commit_callbacks):
    march = [
        TransactionFactory(user=user, date=datetime.date(2024, 3, d), category=Category.GROCERIES) for d in (1, 15, 31)
    ]
    april = TransactionFactory(user=user, date=datetime.date(2024, 4, 1))
    body = {
        "filter": {"since": "2024-03-01", "until": "2024-03-31"},
        "set": {"tags_add": ["march"], "category": "Travel"},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(f"{TX}/bulk", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "matched": 3,
        "changed": {"category": 3, "notes": 0, "tags": 3, "account": 0},
        "deleted": 0,
    }
    assert set(Tag.objects.get(name="march").transactions.values_list("id", flat=True)) == {t.id for t in march}
    assert Transaction.objects.get(id=april.id).category == Category.GROCERIES
    assert CategoryCorrection.objects.filter(new_category=Category.TRAVEL).count() == 3
    assert TransactionChange.objects.filter(field="category", by="user").count() == 3
    assert len(events) == 1 and events[0]["categories"] == {"Groceries", "Travel"}


def test_bulk_by_ids_is_atomic_and_another_users_id_is_a_404(auth_client, user, other_user):
    mine = TransactionFactory(user=user)
    theirs = TransactionFactory(user=other_user)
    body = {"ids": [str(mine.id), str(theirs.id)], "set": {"notes": "x"}}
    assert auth_client.post(f"{TX}/bulk", body, format="json").status_code == 404
    assert Transaction.objects.get(id=mine.id).notes == ""
    body = {"ids": [str(mine.id)], "delete": True}
    assert auth_client.post(f"{TX}/bulk", body, format="json").json()["deleted"] == 1
    assert Transaction.objects.get(id=mine.id).is_deleted


def test_bulk_input_is_checked(auth_client):
    too_many = {"ids": [str(__import__("uuid").uuid4()) for _ in range(10_001)], "set": {"notes": "x"}}
    assert auth_client.post(f"{TX}/bulk", too_many, format="json").status_code == 400
    assert auth_client.post(f"{TX}/bulk", {"filter": {}}, format="json").status_code == 400
    both = {"filter": {}, "ids": [], "set": {"notes": "x"}}
    assert auth_client.post(f"{TX}/bulk", both, format="json").status_code == 400
    account = {"filter": {}, "set": {"account": str(__import__("uuid").uuid4())}}
    assert auth_client.post(f"{TX}/bulk", account, format="json").status_code == 404  # not an account of yours


def test_bulk_edit_costs_the_same_statements_for_3_or_30_rows(auth_client, user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    warm = TransactionFactory(user=user)  # the first request of a client reads a few things once
    auth_client.post(f"{TX}/bulk", {"ids": [str(warm.id)], "set": {"notes": "warm"}}, format="json")
    counts = []
    for size in (3, 30):
        rows = TransactionFactory.create_batch(size, user=user, category=Category.GROCERIES)
        body = {"ids": [str(t.id) for t in rows], "set": {"category": "Travel", "notes": "x", "tags_add": [f"t{size}"]}}
        with CaptureQueriesContext(connection) as queries:
            response = auth_client.post(f"{TX}/bulk", body, format="json")
        assert response.json()["changed"] == {"category": size, "notes": size, "tags": size, "account": 0}
        counts.append(len(queries))
    assert counts[0] == counts[1]
    changes = TransactionChange.objects.filter(transaction_id__in=[t.id for t in rows])
    assert sorted(changes.values_list("field", flat=True).distinct()) == ["category", "notes", "tags"]
    assert changes.count() == 3 * 30 and CategoryCorrection.objects.filter(transaction__in=rows).count() == 30
