import pytest

from ledger.models import Tag, TransactionChange
from merchants.categories import Category
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
TAGS = "/api/v1/tags"


def _tag(client, name, **body):
    response = client.post(TAGS, {"name": name, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _tags_of(client, tx):
    return client.get(f"/api/v1/transactions/{tx.id}").json()["tags"]


def test_tags_are_unique_per_user_whatever_their_case(auth_client, other_client):
    first = _tag(auth_client, "Work", color="#112233")
    response = auth_client.post(TAGS, {"name": "  work "}, format="json")
    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]
    assert other_client.post(TAGS, {"name": "work"}, format="json").status_code == 201


def test_list_counts_live_transactions(auth_client, user):
    kept, deleted = TransactionFactory(user=user), TransactionFactory(user=user, is_deleted=True)
    auth_client.patch(f"/api/v1/transactions/{kept.id}", {"tags": ["trip"]}, format="json")
    Tag.objects.get(name="trip").transactions.add(deleted)
    rows = auth_client.get(TAGS).json()["results"]
    assert [(r["name"], r["count"]) for r in rows] == [("trip", 1)]


def test_patch_replaces_tags_and_every_change_is_audited(auth_client, user):
    tx = TransactionFactory(user=user, category=Category.GROCERIES)
    auth_client.patch(f"/api/v1/transactions/{tx.id}", {"tags": ["a", "B"], "notes": "hi"}, format="json")
    auth_client.patch(f"/api/v1/transactions/{tx.id}", {"tags": ["b"], "category": "Travel"}, format="json")
    assert _tags_of(auth_client, tx) == ["B"]  # "b" is the existing tag "B"
    changes = auth_client.get(f"/api/v1/transactions/{tx.id}/changes").json()["results"]
    assert [(c["field"], c["old"], c["new"], c["by"]) for c in changes] == [
        ("notes", "", "hi", "user"),
        ("tags", [], ["a", "B"], "user"),
        ("category", "Groceries", "Travel", "user"),
        ("tags", ["a", "B"], ["B"], "user"),
    ]


def test_rename_merge_and_delete(auth_client, user):
    one, two = TransactionFactory(user=user), TransactionFactory(user=user)
    auth_client.patch(f"/api/v1/transactions/{one.id}", {"tags": ["food"]}, format="json")
    auth_client.patch(f"/api/v1/transactions/{two.id}", {"tags": ["meals", "food"]}, format="json")
    food, meals = Tag.objects.get(name="food"), Tag.objects.get(name="meals")
    assert auth_client.patch(f"{TAGS}/{meals.id}", {"name": "FOOD"}, format="json").status_code == 409
    assert auth_client.patch(f"{TAGS}/{meals.id}", {"name": "Meals"}, format="json").json()["name"] == "Meals"
    merged = auth_client.post(f"{TAGS}/{meals.id}/merge", {"into": str(food.id)}, format="json").json()
    assert merged["count"] == 2
    assert _tags_of(auth_client, two) == ["food"]
    assert auth_client.delete(f"{TAGS}/{food.id}").status_code == 204
    assert _tags_of(auth_client, one) == []
    assert TransactionChange.objects.filter(transaction=one, field="tags").count() == 2


def test_another_users_tag_is_a_404(auth_client, other_client):
    tag = _tag(auth_client, "mine")
    assert other_client.patch(f"{TAGS}/{tag['id']}", {"name": "x"}, format="json").status_code == 404
    assert other_client.delete(f"{TAGS}/{tag['id']}").status_code == 404
    theirs = _tag(other_client, "theirs")
    response = auth_client.post(f"{TAGS}/{tag['id']}/merge", {"into": theirs["id"]}, format="json")
    assert response.status_code == 404


def test_tag_filter_any_or_all(auth_client, user):
    a, b, both = (TransactionFactory(user=user) for _ in range(3))
    for tx, names in ((a, ["x"]), (b, ["y"]), (both, ["x", "y"])):
        auth_client.patch(f"/api/v1/transactions/{tx.id}", {"tags": names}, format="json")
    any_ids = {r["id"] for r in auth_client.get("/api/v1/transactions", {"tag": ["X", "y"]}).json()["results"]}
    all_ids = {
        r["id"]
        for r in auth_client.get("/api/v1/transactions", {"tag": ["x", "y"], "tag_mode": "all"}).json()["results"]
    }
    assert any_ids == {str(a.id), str(b.id), str(both.id)}
    assert all_ids == {str(both.id)}


def test_changes_of_another_users_transaction_is_a_404(other_client, user):
    tx = TransactionFactory(user=user)
    assert other_client.get(f"/api/v1/transactions/{tx.id}/changes").status_code == 404


def test_export_has_the_tags_column(auth_client, user):
    tx = TransactionFactory(user=user)
    auth_client.patch(f"/api/v1/transactions/{tx.id}", {"tags": ["b", "a"]}, format="json")
    body = b"".join(auth_client.get("/api/v1/transactions/export").streaming_content).decode()
    header, row = body.splitlines()[:2]
    assert header.endswith(",tags,account") and row.endswith(f",a;b,{tx.account.name}")


def test_audit_rows_of_one_write_get_time_ordered_ids(user):
    from config.ids import ordered_ids
    from ledger.transactions.audit import Change, changes_record

    ids = ordered_ids(5000)
    assert ids == sorted(ids) and len(set(ids)) == 5000 and {i.version for i in ids} == {7}
    rows = TransactionFactory.create_batch(3, user=user)
    assert changes_record([Change(tx.id, "notes", "", f"n{i}") for i, tx in enumerate(rows)], by="user") == 3
    written = list(TransactionChange.objects.filter(transaction__in=rows).order_by("id").values_list("new", flat=True))
    assert written == ["n0", "n1", "n2"]


def test_audit_rows_keep_every_value_exactly_as_given(user):
    """The audit's COPY text carries tabs, line ends, backslashes, quotes,
    non-ASCII text, NULLs, lists, money and the reason as they were."""
    import datetime
    import uuid
    from decimal import Decimal

    from ledger.transactions.audit import Change, changes_record

    tx = TransactionFactory(user=user)
    rule_id, import_ref = uuid.uuid4(), uuid.uuid4()
    at = datetime.datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=datetime.UTC)
    tricky = 'tab\there\nnew line\r\\N back\\slash "quoted" café \\'
    changes = [
        Change(tx.id, "notes", tricky, "plain"),
        Change(tx.id, "merchant", None, tricky, rule_id),
        Change(tx.id, "tags", ["a\tb"], ["a\tb", "Ünï"]),
        Change(tx.id, "amount", Decimal("1.5"), Decimal("-2")),
        Change(tx.id, "category", "Same", "Same"),  # unchanged: no row
    ]
    assert changes_record(changes, by="import", actor=user, import_ref=import_ref, reason="why\tso\\", at=at) == 4

    rows = TransactionChange.objects.filter(transaction_id=tx.id).order_by("id")
    assert [(r.field, r.old, r.new, r.rule_id) for r in rows] == [
        ("notes", tricky, "plain", None),
        ("merchant", None, tricky, rule_id),
        ("tags", ["a\tb"], ["a\tb", "Ünï"], None),
        ("amount", "1.50", "-2.00", None),
    ]
    assert {(r.by, r.actor_id, r.import_ref, r.reason, r.at) for r in rows} == {
        ("import", user.pk, import_ref, "why\tso\\", at)
    }


def test_bulk_add_and_remove_audits_each_row_s_own_lists(auth_client, user):
    """One bulk call adding and removing tags: each row's audit row holds its
    own tags before and after (sorted whatever their case); a row the call
    leaves as it was gets no audit row and is not counted."""
    both, only_old, untouched = (TransactionFactory(user=user) for _ in range(3))
    auth_client.patch(f"/api/v1/transactions/{both.id}", {"tags": ["zeta", "Old"]}, format="json")
    auth_client.patch(f"/api/v1/transactions/{only_old.id}", {"tags": ["old"]}, format="json")
    auth_client.patch(f"/api/v1/transactions/{untouched.id}", {"tags": ["new"]}, format="json")
    ids = [str(t.id) for t in (both, only_old, untouched)]
    body = {"ids": ids, "set": {"tags_add": ["New"], "tags_remove": ["OLD"]}}
    response = auth_client.post("/api/v1/transactions/bulk", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["changed"]["tags"] == 2
    assert [_tags_of(auth_client, t) for t in (both, only_old, untouched)] == [["new", "zeta"], ["new"], ["new"]]
    last = {
        c.transaction_id: (c.old, c.new) for c in TransactionChange.objects.filter(field="tags").order_by("at", "id")
    }
    assert last[both.id] == (["Old", "zeta"], ["new", "zeta"])
    assert last[only_old.id] == (["Old"], ["new"])  # "old" is the existing tag "Old"
    assert TransactionChange.objects.filter(field="tags", transaction_id=untouched.id).count() == 1  # its PATCH only
