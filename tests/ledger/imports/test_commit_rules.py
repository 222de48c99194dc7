"""The user's rules run on every row an import commit writes: after merchant
matching, in position order, stop_processing ending the pass, each change
audited (by rule, naming the rule and the import) and counted."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import Rule, Transaction, TransactionChange
from merchants.categories import Category
from tests.ledger.factories import AccountFactory

pytestmark = pytest.mark.django_db

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
# A generic bank file: money out is negative, as most banks write it.
STATEMENT = (
    b"Date,Description,Amount\n"
    b"2024-03-01,AMZN Mktp US*2K4,-75.00\n"
    b"2024-03-02,AMAZON.COM*RT5,-20.00\n"
    b"2024-03-03,Amazon Prime Video,-120.50\n"
    b"2024-03-04,Corner Bakery,-80.00\n"
    b"2024-03-05,AMZN Marketplace refund,60.00\n"
)


@pytest.fixture
def checking(user):
    return AccountFactory(user=user, name="Checking", kind="checking", currency="USD")


def _rule(client, **body):
    body = {"name": "Big online", "conditions": AMAZON_BIG, "actions": TAG_AND_SHOP, **body}
    response = client.post("/api/v1/rules", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _import(client, account, content=STATEMENT, *, commit_as=None):
    body = {"file": SimpleUploadedFile("statement.csv", content), "account": str(account.id)}
    preview = client.post("/api/v1/imports", body, format="multipart")
    assert preview.status_code == 201, preview.json()
    committed = client.post(f"/api/v1/imports/{preview.json()['id']}/commit", {}, format="json")
    assert committed.status_code in (200, 202), committed.json()
    return preview.json()["id"]


def _by_payee(account):
    return {tx.merchant_raw: tx for tx in Transaction.objects.filter(account=account).prefetch_related("tags")}


def test_a_rule_tags_and_categorises_imported_rows_and_every_change_is_audited(auth_client, checking):
    rule = _rule(auth_client)

    import_id = _import(auth_client, checking)

    rows = _by_payee(checking)
    hit = {"AMZN Mktp US*2K4", "Amazon Prime Video"}
    for payee, tx in rows.items():
        tags = [tag.name for tag in tx.tags.all()]
        if payee in hit:
            assert (tx.category, tags) == (Category.SHOPPING, ["big-online"]), payee
            assert tx.confidence["method"] == "rule"
        else:  # too small, not Amazon, or money in
            assert tx.category != Category.SHOPPING or tx.confidence.get("method") != "rule", payee
            assert tags == [], payee
    audited = TransactionChange.objects.filter(transaction__account=checking)
    assert {(c.transaction.merchant_raw, c.field, c.by, str(c.rule_id), str(c.import_ref)) for c in audited} == {
        (payee, field, "rule", rule["id"], import_id) for payee in hit for field in ("tags", "category")
    }
    assert {c.new for c in audited if c.field == "category"} == {Category.SHOPPING}
    assert Rule.objects.get(id=rule["id"]).applied_count == 2
    assert Rule.objects.get(id=rule["id"]).last_applied_at is not None


def test_rules_run_in_position_order_and_stop_processing_ends_the_pass(auth_client, checking):
    _rule(auth_client, name="first", position=1, stop_processing=True,
          actions=[{"type": "append_notes", "value": "one"}])  # fmt: skip
    _rule(auth_client, name="second", position=2, actions=[{"type": "append_notes", "value": "two"}])
    # The third rule matches what the fourth, earlier in position, wrote: later rules see earlier changes.
    _rule(auth_client, name="after-category", position=4,
          conditions={"field": "category", "op": "eq", "value": "Travel"},
          actions=[{"type": "add_tags", "value": ["trip"]}])  # fmt: skip
    _rule(auth_client, name="travel", position=3,
          conditions={"field": "merchant_raw", "op": "contains", "value": "bakery"},
          actions=[{"type": "set_category", "value": "Travel"}])  # fmt: skip

    _import(auth_client, checking)

    rows = _by_payee(checking)
    assert rows["AMZN Mktp US*2K4"].notes == "one"  # stopped after the first rule
    assert rows["AMAZON.COM*RT5"].notes == ""  # 20.00 matches none of the amount rules
    bakery = rows["Corner Bakery"]
    assert (bakery.category, [t.name for t in bakery.tags.all()]) == (Category.TRAVEL, ["trip"])
    assert Rule.objects.get(name="second").applied_count == 0
    assert Rule.objects.get(name="first").applied_count == 2


def test_the_rules_run_on_the_task_path_too(auth_client, checking, settings, celery_eager,
                                             django_capture_on_commit_callbacks):  # fmt: skip
    settings.LEDGER_IMPORT_ASYNC_ROWS = 2
    rule = _rule(auth_client)

    with django_capture_on_commit_callbacks(execute=True):
        _import(auth_client, checking)

    tagged = Transaction.objects.filter(account=checking, tags__name="big-online")
    assert sorted(tagged.values_list("merchant_raw", flat=True)) == ["AMZN Mktp US*2K4", "Amazon Prime Video"]
    assert TransactionChange.objects.filter(rule_id=rule["id"], by="rule").count() == 4


def test_the_import_rows_say_which_rules_changed_them(auth_client, checking):
    rule = _rule(auth_client)
    notes = _rule(auth_client, name="Bakery note", position=1,
                  conditions={"all": [{"field": "merchant_raw", "op": "contains", "value": "bakery"}]},
                  actions=[{"type": "append_notes", "value": "bread"}])  # fmt: skip
    import_id = _import(auth_client, checking)

    rows = {r["data"]["payee"]: r for r in auth_client.get(f"/api/v1/imports/{import_id}").json()["rows"]["results"]}
    prime = rows["Amazon Prime Video"]
    assert prime["rules"] == [{"id": rule["id"], "name": "Big online"}]
    assert {(c["field"], str(c["new"]), c["rule"]) for c in prime["rule_changes"]} == {
        ("tags", "['big-online']", rule["id"]),
        ("category", "Shopping", rule["id"]),
    }
    assert rows["Corner Bakery"]["rules"] == [{"id": notes["id"], "name": "Bakery note"}]
    assert rows["AMAZON.COM*RT5"]["rules"] == [] and rows["AMAZON.COM*RT5"]["rule_changes"] == []  # 20.00: not > 50

    assert auth_client.delete(f"/api/v1/rules/{notes['id']}").status_code == 204  # its changes stay, unnamed
    rows = {r["data"]["payee"]: r for r in auth_client.get(f"/api/v1/imports/{import_id}").json()["rows"]["results"]}
    assert rows["Corner Bakery"]["rules"] == [{"id": None, "name": None}]
    assert rows["Corner Bakery"]["rule_changes"][0]["field"] == "notes"


def test_preview_rows_have_no_rules_yet(auth_client, checking):
    _rule(auth_client)
    body = {"file": SimpleUploadedFile("statement.csv", STATEMENT), "account": str(checking.id)}
    preview = auth_client.post("/api/v1/imports", body, format="multipart").json()
    assert all(r["rules"] == [] and r["rule_changes"] == [] for r in preview["rows"])
