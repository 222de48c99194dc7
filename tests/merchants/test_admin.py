import pytest
from django.test import Client

from merchants.models import Merchant
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory
from tests.merchants.factories import MerchantFactory

pytestmark = pytest.mark.django_db
URL = "/admin/merchants/merchant/"


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_changelist_searches_aliases_and_points_to_the_import_command(admin_client):
    MerchantFactory(canonical_name="Amazon", aliases=["AMZN MKTP US"])
    MerchantFactory(canonical_name="Target")

    response = admin_client.get(URL, {"q": "mktp"})

    assert response.status_code == 200
    assert [m.canonical_name for m in response.context["cl"].result_list] == ["Amazon"]
    assert b"import_merchants" in response.content


def test_admin_add_sets_the_derived_search_columns(admin_client):
    response = admin_client.post(
        URL + "add/",
        {
            "canonical_name": "Blue Bottle",
            "category": "Food & Dining",
            "country": "us",
            "aliases": "SQ *BLUE BOTTLE",
            "tags": "[]",
        },
    )

    assert response.status_code == 302, response.content
    merchant = Merchant.objects.get(canonical_name="Blue Bottle")
    assert (merchant.normalized_name, merchant.country, merchant.alias_keys) == ("blue bottle", "US", ["blue bottle"])


def test_admin_add_refuses_a_duplicate(admin_client):
    MerchantFactory(canonical_name="Amazon")
    response = admin_client.post(URL + "add/", {"canonical_name": "AMAZON", "category": "Shopping", "tags": "[]"})
    assert response.status_code == 200
    assert Merchant.objects.count() == 1


def test_merge_action_asks_for_a_target_then_merges(admin_client):
    target = MerchantFactory(canonical_name="Amazon")
    source = MerchantFactory(canonical_name="Amzn")
    transaction = TransactionFactory(merchant=source)
    selected = {"action": "merge_selected", "_selected_action": [str(target.pk), str(source.pk)]}

    confirm = admin_client.post(URL, selected)
    done = admin_client.post(URL, {**selected, "apply": "1", "target": str(target.pk)})

    assert confirm.status_code == 200
    assert b"Choose the merchant to keep" in confirm.content
    assert done.status_code == 302
    transaction.refresh_from_db()
    assert transaction.merchant_id == target.pk
    assert list(Merchant.objects.values_list("canonical_name", "aliases")) == [("Amazon", ["Amzn"])]


def test_admin_change_goes_through_merchant_update(admin_client):
    MerchantFactory(canonical_name="Amazon")
    merchant = MerchantFactory(canonical_name="Blue Bottle")
    fields = {"category": "Food & Dining", "country": "us", "aliases": "", "tags": "[]"}

    collision = admin_client.post(f"{URL}{merchant.pk}/change/", {**fields, "canonical_name": "amazon"})
    renamed = admin_client.post(f"{URL}{merchant.pk}/change/", {**fields, "canonical_name": "Blue  Bottle Coffee"})

    assert collision.status_code == 200
    assert "Amazon" in str(collision.context["adminform"].form.non_field_errors())
    assert renamed.status_code == 302, renamed.content
    merchant.refresh_from_db()
    assert (merchant.canonical_name, merchant.normalized_name, merchant.country) == (
        "Blue Bottle Coffee",
        "blue bottle coffee",
        "US",
    )


def test_admin_delete_goes_through_the_service(admin_client):
    merchant = MerchantFactory(canonical_name="Gone")
    transaction = TransactionFactory(merchant=merchant)

    response = admin_client.post(f"{URL}{merchant.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    transaction.refresh_from_db()
    assert transaction.merchant_id is None and not Merchant.objects.filter(pk=merchant.pk).exists()
