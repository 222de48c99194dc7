import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import CategoryCorrection, Rule, SplitLine, Transaction, TransactionChange
from merchants.categories import Category
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/rules"
AMAZON_BIG = {
    "all": [
        {
            "any": [
                {"field": "merchant_raw", "op": "contains", "value": "AMZN"},
                {"field": "merchant_raw", "op": "contains", "value": "AMAZON"},
            ]
        },
        {"field": "amount", "op": "gt", "value": 50},
    ]
}
TAG_AND_SHOP = [{"type": "add_tags", "value": ["big-online"]}, {"type": "set_category", "value": "Shopping"}]


def _rule(client, **body):
    body = {"name": "Big online", "conditions": AMAZON_BIG, "actions": TAG_AND_SHOP, **body}
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _create(client, **body):
    body = {"amount": "75.00", "date": "2024-03-04", "merchant_raw": "AMZN Mktp US", **body}
    response = client.post("/api/v1/transactions", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_a_new_transaction_gets_the_rule_and_the_audit_names_it(auth_client):
    rule = _rule(auth_client)
    tx = _create(auth_client)
    assert tx["category"] == Category.SHOPPING
    assert tx["tags"] == ["big-online"]
    changes = auth_client.get(f"/api/v1/transactions/{tx['id']}/changes").json()["results"]
    assert {(c["field"], c["by"], c["rule"]) for c in changes} == {
        ("tags", "rule", rule["id"]),
        ("category", "rule", rule["id"]),
    }
    assert Rule.objects.get(id=rule["id"]).applied_count == 1


def test_a_category_given_by_hand_is_never_overwritten(auth_client, user):
    rule = _rule(auth_client)
    tx = _create(auth_client, category="Groceries")
    assert tx["category"] == Category.GROCERIES
    assert tx["tags"] == ["big-online"]
    other = TransactionFactory(user=user, merchant_raw="AMZN x", amount=Decimal("90"), category=Category.TRAVEL)
    auth_client.patch(f"/api/v1/transactions/{other.id}", {"category": "Health"}, format="json")
    assert auth_client.post(f"{URL}/{rule['id']}/apply", {}, format="json").status_code == 200
    assert Transaction.objects.get(id=other.id).category == Category.HEALTH


def test_rules_run_in_position_order_and_stop_processing_ends_the_pass(auth_client):
    first = _rule(
        auth_client, name="first", position=1, stop_processing=True, actions=[{"type": "append_notes", "value": "one"}]
    )
    _rule(auth_client, name="second", position=2, actions=[{"type": "append_notes", "value": "two"}])
    assert _create(auth_client)["notes"] == "one"
    auth_client.patch(f"{URL}/{first['id']}", {"stop_processing": False}, format="json")
    assert _create(auth_client, merchant_raw="AMAZON EU")["notes"] == "one two"


def test_a_later_rule_sees_what_an_earlier_one_changed_and_earlier_ones_are_not_asked_again(auth_client):
    # The second rule reads the category the first one sets; the third would match the
    # original row only (notes empty) and must not fire once the first rule has written notes.
    _rule(auth_client, name="shop", position=1, actions=[{"type": "set_category", "value": "Travel"},
                                                           {"type": "set_notes", "value": "ruled"}])  # fmt: skip
    follow = _rule(
        auth_client,
        name="follow",
        position=2,
        conditions={"all": [{"field": "category", "op": "eq", "value": "Travel"}]},
        actions=[{"type": "add_tags", "value": ["followed"]}],
    )
    stale = _rule(
        auth_client,
        name="stale",
        position=3,
        conditions={"all": [{"field": "notes", "op": "is_empty", "value": True}]},
        actions=[{"type": "add_tags", "value": ["stale"]}],
    )
    tx = _create(auth_client, notes="")
    assert (tx["category"], tx["notes"], tx["tags"]) == (Category.TRAVEL, "ruled", ["followed"])
    assert Rule.objects.get(id=follow["id"]).applied_count == 1
    assert Rule.objects.get(id=stale["id"]).applied_count == 0


def test_a_field_several_rules_set_in_one_pass_is_audited_once_from_before_to_after(auth_client):
    # Travel then Shopping: the row is stored with Shopping and never held Travel, so the
    # audit has one category change by the rule that left it; both rules count the hit.
    travel = _rule(auth_client, name="travel", position=1, actions=[{"type": "set_category", "value": "Travel"},
                                                                     {"type": "add_tags", "value": ["a"]}])  # fmt: skip
    shop = _rule(auth_client, name="shop", position=2, actions=[{"type": "set_category", "value": "Shopping"},
                                                                 {"type": "add_tags", "value": ["b"]}])  # fmt: skip
    tx = _create(auth_client)
    assert (tx["category"], sorted(tx["tags"])) == (Category.SHOPPING, ["a", "b"])
    changes = TransactionChange.objects.filter(transaction_id=tx["id"])
    assert sorted((c.field, c.old, c.new, str(c.rule_id)) for c in changes) == [
        ("category", Category.UNCATEGORIZED, Category.SHOPPING, shop["id"]),
        ("tags", [], ["a", "b"], shop["id"]),
    ]
    assert [Rule.objects.get(id=r["id"]).applied_count for r in (travel, shop)] == [1, 1]


def test_invalid_rules_are_400s_naming_the_path(auth_client):
    body = {
        "name": "bad",
        "conditions": {
            "any": [
                {"field": "notes", "op": "eq", "value": "x"},
                {"all": [{"field": "amount", "op": "starts_with", "value": "1"}]},
            ]
        },
        "actions": [
            {
                "type": "split",
                "value": {"lines": [{"category": "Groceries", "percent": 60}, {"category": "Shopping", "percent": 30}]},
            }
        ],
    }
    response = auth_client.post(URL, body, format="json")
    assert response.status_code == 400
    attrs = {e["attr"]: e["code"] for e in response.json()["errors"]}
    assert attrs == {"conditions.any[1].all[0].op": "invalid_op", "actions[0].value": "split_does_not_add_up"}
    transfer = {**body, "conditions": AMAZON_BIG, "actions": [{"type": "mark_transfer", "value": "x"}]}
    response = auth_client.post(URL, transfer, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "actions[0].value"


def test_another_users_rule_is_a_404(auth_client, other_client):
    rule = _rule(auth_client)
    for method, suffix in (("get", ""), ("patch", ""), ("delete", ""), ("post", "/preview"), ("post", "/apply")):
        response = getattr(other_client, method)(f"{URL}/{rule['id']}{suffix}", {}, format="json")
        assert response.status_code == 404, (method, suffix)


def test_preview_query_count_does_not_grow_with_the_page(auth_client, user, django_assert_max_num_queries):
    """The drafts read each row's account and merchant: joined to the page, not one query per row."""
    rule = _rule(auth_client, conditions={"all": [{"field": "amount", "op": "gt", "value": 1}]})
    url = f"{URL}/{rule['id']}/preview"
    TransactionFactory.create_batch(2, user=user, amount=Decimal("60"))
    with django_assert_max_num_queries(20) as few:
        auth_client.post(url, {}, format="json")
    TransactionFactory.create_batch(30, user=user, amount=Decimal("60"))
    with django_assert_max_num_queries(len(few)):
        response = auth_client.post(url, {}, format="json")
    assert response.json()["count"] == 32


def test_preview_counts_matches_and_shows_the_change_apply_writes_it_once(auth_client, user):
    match = TransactionFactory(user=user, merchant_raw="AMZN Mktp", amount=Decimal("60"), category=Category.TRAVEL)
    TransactionFactory(user=user, merchant_raw="AMZN Mktp", amount=Decimal("5"))
    TransactionFactory(user=user, merchant_raw="Cafe", amount=Decimal("60"))
    rule = _rule(auth_client)
    preview = auth_client.post(f"{URL}/{rule['id']}/preview", {}, format="json").json()
    assert preview["count"] == 1
    assert preview["results"][0]["transaction"]["id"] == str(match.id)
    assert {c["field"] for c in preview["results"][0]["changes"]} == {"tags", "category"}
    assert TransactionChange.objects.count() == 0

    first = auth_client.post(f"{URL}/{rule['id']}/apply", {}, format="json").json()
    again = auth_client.post(f"{URL}/{rule['id']}/apply", {}, format="json").json()
    assert first == {"matched": 1, "changed": 1}
    assert again == {"matched": 1, "changed": 0}
    match.refresh_from_db()
    assert match.category == Category.SHOPPING
    assert list(match.tags.values_list("name", flat=True)) == ["big-online"]
    assert TransactionChange.objects.filter(transaction=match, by="rule").count() == 2


def test_apply_takes_the_list_filters(auth_client, user):
    old = TransactionFactory(user=user, merchant_raw="AMZN", amount=Decimal("60"), date=datetime.date(2023, 1, 1))
    new = TransactionFactory(user=user, merchant_raw="AMZN", amount=Decimal("60"), date=datetime.date(2024, 1, 1))
    rule = _rule(auth_client)
    result = auth_client.post(f"{URL}/{rule['id']}/apply", {"filter": {"since": "2023-06-01"}}, format="json")
    assert result.json() == {"matched": 1, "changed": 1}
    assert Transaction.objects.get(id=old.id).category == Category.GROCERIES
    assert Transaction.objects.get(id=new.id).category == Category.SHOPPING


def test_a_split_rule_splits_with_the_remainder_last(auth_client):
    actions = [
        {"type": "split", "value": {"lines": [{"category": "Groceries", "percent": 60}, {"category": "Shopping"}]}}
    ]
    _rule(auth_client, actions=actions)
    tx = _create(auth_client, amount="75.01")
    lines = list(SplitLine.objects.filter(transaction_id=tx["id"]).values_list("amount", "category"))
    assert lines == [(Decimal("45.01"), "Groceries"), (Decimal("30.00"), "Shopping")]


def test_the_test_endpoint_evaluates_a_draft(auth_client):
    body = {
        "conditions": AMAZON_BIG,
        "actions": TAG_AND_SHOP,
        "transaction": {"merchant_raw": "amazon", "amount": "51"},
    }
    result = auth_client.post(f"{URL}/test", body, format="json").json()
    assert result["matches"] is True
    assert {c["field"]: c["new"] for c in result["changes"]} == {"tags": ["big-online"], "category": "Shopping"}
    body["transaction"]["amount"] = "50"
    assert auth_client.post(f"{URL}/test", body, format="json").json() == {"matches": False, "changes": []}


def test_rules_run_on_csv_import_and_the_file_tags_arrive(auth_client):
    rule = _rule(auth_client)
    content = (
        "date,amount,merchant,tags\n"
        "2024-03-01,99.00,AMZN Mktp,home\n"
        "2024-03-02,10.00,AMZN Mktp,\n"
        "2024-03-03,80.00,Corner Cafe,home;work\n"
    )
    upload = SimpleUploadedFile("t.csv", content.encode(), "text/csv")
    response = auth_client.post("/api/v1/transactions/import", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    rows = {t.merchant_raw + t.amount.to_eng_string(): t for t in Transaction.objects.all()}
    big = rows["AMZN Mktp99.00"]
    assert big.category == Category.SHOPPING
    assert sorted(big.tags.values_list("name", flat=True)) == ["big-online", "home"]
    assert sorted(rows["Corner Cafe80.00"].tags.values_list("name", flat=True)) == ["home", "work"]
    assert not rows["AMZN Mktp10.00"].tags.exists()
    by = set(TransactionChange.objects.filter(transaction=big).values_list("field", "by"))
    assert by == {("tags", "import"), ("tags", "rule"), ("category", "rule")}
    assert Rule.objects.get(id=rule["id"]).applied_count == 1
    listed = auth_client.get("/api/v1/transactions", {"tag": ["HOME", "work"], "tag_mode": "all"}).json()
    assert [r["merchant_raw"] for r in listed["results"]] == ["Corner Cafe"]


def test_suggestions_come_from_repeated_corrections(auth_client, user):
    for _ in range(3):
        tx = TransactionFactory(user=user, merchant_raw="Joe's Deli", category=Category.GROCERIES)
        CategoryCorrection.objects.create(
            transaction=tx, user=user, old_category=Category.GROCERIES, new_category=Category.FOOD_DINING
        )
    suggestions = auth_client.get(f"{URL}/suggestions").json()
    assert len(suggestions) == 1
    assert suggestions[0]["actions"] == [{"type": "set_category", "value": "Food & Dining"}]
    body = {k: suggestions[0][k] for k in ("name", "conditions", "actions")}
    assert auth_client.post(URL, body, format="json").status_code == 201
    assert auth_client.get(f"{URL}/suggestions").json() == []


def test_merchant_is_the_matched_name_or_the_bank_text_while_none_is_matched(auth_client, user):
    from merchants.models import Merchant

    amazon = Merchant.objects.create(canonical_name="Amazon", category=Category.SHOPPING)
    matched = TransactionFactory(user=user, merchant_raw="Online order 55", merchant=amazon, amount=Decimal("60"))
    unmatched = TransactionFactory(user=user, merchant_raw="AMZN Marketplace", amount=Decimal("64.99"))
    TransactionFactory(user=user, merchant_raw="Corner Bakery", amount=Decimal("60"))
    conditions = {
        "any": [
            {"field": "merchant", "op": "contains", "value": "AMZN"},
            {"field": "merchant", "op": "contains", "value": "AMAZON"},
        ]
    }
    rule = _rule(auth_client, conditions=conditions)
    preview = auth_client.post(f"{URL}/{rule['id']}/preview", {}, format="json").json()  # SQL
    assert {r["transaction"]["id"] for r in preview["results"]} == {str(matched.id), str(unmatched.id)}
    tx = _create(auth_client, merchant_raw="AMZN Digital 77")  # Python, on a new row
    assert tx["tags"] == ["big-online"]
