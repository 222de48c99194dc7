import pytest

from ledger.models import Rule, TransactionChange
from merchants.categories import Category
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
CONDITIONS = {"all": [{"field": "merchant_raw", "op": "contains", "value": "amzn"}]}


@pytest.fixture
def admin_client(client, django_user_model):
    staff = django_user_model.objects.create_superuser(email="root@example.com", password="pw-123456789")
    client.force_login(staff)
    return client


def test_admin_rule_form_refuses_an_invalid_tree_naming_the_path(admin_client, user):
    data = {
        "user": user.pk,
        "name": "x",
        "enabled": "on",
        "position": 1,
        "conditions": '{"all": [{"field": "amount", "op": "regex", "value": "1"}]}',
        "actions": '[{"type": "set_category", "value": "Shopping"}]',
    }
    response = admin_client.post("/admin/ledger/rule/add/", data)
    assert response.status_code == 200
    assert "conditions.all[0].op" in response.content.decode()
    data["conditions"] = '{"all": [{"field": "merchant_raw", "op": "contains", "value": "amzn"}]}'
    response = admin_client.post("/admin/ledger/rule/add/", data)
    assert response.status_code == 302
    assert Rule.objects.get(user=user).conditions == CONDITIONS


def test_an_admin_edit_is_audited_as_admin(admin_client, user):
    tx = TransactionFactory(user=user, category=Category.GROCERIES)
    page = admin_client.get(f"/admin/ledger/transaction/{tx.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"category": Category.TRAVEL, "tags": []})
    data.update({"changes-TOTAL_FORMS": 0, "changes-INITIAL_FORMS": 0})
    response = admin_client.post(f"/admin/ledger/transaction/{tx.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    change = TransactionChange.objects.get(transaction=tx)
    assert (change.field, change.old, change.new, change.by) == ("category", "Groceries", "Travel", "admin")
