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
    assert b"import_merchants" in response.content and b"Import merchants" in response.content


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


def test_tags_are_typed_comma_separated_and_shown_that_way(admin_client):
    response = admin_client.post(
        URL + "add/", {"canonical_name": "Blue Bottle", "category": "Food & Dining", "tags": "coffee,  chain ,"}
    )
    assert response.status_code == 302, response.content
    merchant = Merchant.objects.get(canonical_name="Blue Bottle")
    assert merchant.tags == ["coffee", "chain"]

    page = admin_client.get(f"{URL}{merchant.pk}/change/")
    assert b'value="coffee, chain"' in page.content
    assert b"Comma-separated" in page.content
    flags = admin_client.post(
        f"{URL}{merchant.pk}/change/",
        {"canonical_name": "Blue Bottle", "category": "Food & Dining", "tags": '{"chain": true}'},
    )
    assert flags.status_code == 302
    merchant.refresh_from_db()
    assert merchant.tags == {"chain": True}
    broken = admin_client.post(
        f"{URL}{merchant.pk}/change/", {"canonical_name": "Blue Bottle", "category": "Food & Dining", "tags": "[oops"}
    )
    assert broken.status_code == 200 and "Not valid JSON" in str(broken.context["adminform"].form.errors)


def test_category_labels_keep_their_ampersand_in_admin(admin_client):
    MerchantFactory(canonical_name="Cafe", category="Food & Dining")

    page = admin_client.get(URL)

    assert "Food &amp; Dining" in page.content.decode()
    assert "Food Dining" not in page.content.decode()


def test_a_merge_without_a_target_says_so_and_merges_nothing(admin_client):
    first, second = MerchantFactory(canonical_name="Amazon"), MerchantFactory(canonical_name="Amzn")
    selected = {"action": "merge_selected", "_selected_action": [str(first.pk), str(second.pk)], "apply": "1"}

    response = admin_client.post(URL, selected, follow=True)

    assert "Nothing merged: choose the merchant to keep." in [str(m) for m in response.context["messages"]]
    assert Merchant.objects.count() == 2


def test_a_merge_is_recorded_in_the_kept_merchants_history(admin_client):
    from django.contrib.admin.models import LogEntry

    target, source = MerchantFactory(canonical_name="Amazon"), MerchantFactory(canonical_name="Amzn")
    selected = {"action": "merge_selected", "_selected_action": [str(target.pk), str(source.pk)]}
    admin_client.post(URL, {**selected, "apply": "1", "target": str(target.pk)})

    entry = LogEntry.objects.get(object_id=str(target.pk))
    assert entry.get_change_message() == "Merged Amzn into this merchant."
    history = admin_client.get(f"{URL}{target.pk}/history/")
    assert b"Merged Amzn into this merchant." in history.content


def _upload(name, body):
    from django.core.files.uploadedfile import SimpleUploadedFile

    header = "canonical_name,category,aliases,country,tags\n"
    return SimpleUploadedFile(name, (header + body).encode(), content_type="text/csv")


def test_import_page_dry_run_then_import_with_rejected_rows_listed(admin_client):
    body = "Blue Bottle,Food & Dining,SQ *BLUE BOTTLE,US,\nGadget Hub,Gadgets,,US,\n"
    changelist = admin_client.get(URL)
    assert b"/admin/merchants/merchant/import/" in changelist.content

    dry = admin_client.post(URL + "import/", {"file": _upload("m.csv", body), "dry_run": "on"})
    assert dry.status_code == 200
    assert dry.context["result"].imported == 1 and len(dry.context["result"].errors) == 1
    assert b"Dry run: nothing written" in dry.content and b"unknown category" in dry.content
    assert not Merchant.objects.exists()

    real = admin_client.post(URL + "import/", {"file": _upload("m.csv", body)})
    assert real.status_code == 200 and real.context["result"].imported == 1
    assert list(Merchant.objects.values_list("canonical_name", flat=True)) == ["Blue Bottle"]


def test_import_page_refuses_a_file_with_the_wrong_header(admin_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("x.csv", b"name,kind\nA,B\n", content_type="text/csv")
    response = admin_client.post(URL + "import/", {"file": bad})

    assert response.status_code == 200 and response.context["result"] is None
    assert "wrong header" in str(response.context["form"].errors["file"])
    assert not Merchant.objects.exists()


def test_import_page_is_for_staff_with_rights_only(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(URL + "import/").status_code == 403
