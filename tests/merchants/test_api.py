import datetime
from decimal import Decimal

import pytest

from merchants.categories import CATEGORY_NAMES, Category
from merchants.models import Merchant
from tests.ledger.factories import TransactionFactory
from tests.merchants.factories import merchant_with_aliases as make

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue():
    return {
        "starbucks": make("Starbucks", ["SBUX"], Category.FOOD_DINING),
        "amazon": make("Amazon", ["AMZN MKTP US", "AMZN MKTP"]),
        "swiggy": make("Swiggy", [], Category.FOOD_DINING),
        "wholefoods": make("Whole Foods Market", ["WFM"], Category.GROCERIES),
    }


@pytest.mark.parametrize(
    ("q", "name", "match"),
    [("Swigy", "Swiggy", "fuzzy"), ("AMZN MKTP US", "Amazon", "alias"), ("starbucks #1234", "Starbucks", "exact")],
)
def test_search_finds_the_issue_examples(auth_client, catalogue, q, name, match):
    response = auth_client.get("/api/v1/merchants/search", {"q": q})

    assert response.status_code == 200
    first = response.json()["results"][0]
    assert (first["canonical_name"], first["match"]) == (name, match)
    assert isinstance(first["score"], float)


def test_search_answers_what_the_hit_serializer_renders(auth_client, catalogue):
    from merchants.selectors import merchant_search
    from merchants.serializers import MerchantSearchHitSerializer

    catalogue["starbucks"].tags = ["coffee", {"chain": True}]
    catalogue["starbucks"].save()
    expected = MerchantSearchHitSerializer(merchant_search(q="starbucks"), many=True).data

    body = auth_client.get("/api/v1/merchants/search", {"q": "starbucks"}).json()

    assert body["query"] == "starbucks"
    assert body["results"] == [dict(row) for row in expected]
    assert body["results"][0]["aliases"] == ["SBUX"]
    assert body["results"][0]["tags"] == ["coffee", {"chain": True}]


def test_search_filters_by_category(auth_client, catalogue):
    food = auth_client.get("/api/v1/merchants/search", {"q": "swiggy", "category": "Food & Dining"})
    shopping = auth_client.get("/api/v1/merchants/search", {"q": "swiggy", "category": "Shopping"})

    assert [r["canonical_name"] for r in food.json()["results"]] == ["Swiggy"]
    assert shopping.json()["results"] == []


@pytest.mark.parametrize(
    ("params", "attr"),
    [
        ({"q": "a"}, "q"),
        ({}, "q"),
        ({"q": "amazon", "limit": "0"}, "limit"),
        ({"q": "amazon", "limit": "101"}, "limit"),
        ({"q": "amazon", "limit": "ten"}, "limit"),
        ({"q": "amazon", "category": "Gadgets"}, "category"),
    ],
)
def test_search_rejects_bad_input(auth_client, params, attr):
    response = auth_client.get("/api/v1/merchants/search", params)

    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "validation_error"
    assert body["errors"][0]["attr"] == attr


def test_search_needs_a_login(api_client):
    assert api_client.get("/api/v1/merchants/search", {"q": "amazon"}).status_code == 401


def test_list_and_detail(auth_client, catalogue):
    listing = auth_client.get("/api/v1/merchants", {"category": "Food & Dining"})
    detail = auth_client.get(f"/api/v1/merchants/{catalogue['amazon'].id}")

    assert listing.status_code == 200
    assert [m["canonical_name"] for m in listing.json()["results"]] == ["Starbucks", "Swiggy"]
    assert detail.status_code == 200
    assert detail.json()["aliases"] == ["AMZN MKTP US", "AMZN MKTP"]
    assert auth_client.get("/api/v1/merchants/00000000-0000-0000-0000-000000000000").status_code == 404


def test_create_is_staff_only(auth_client):
    response = auth_client.post("/api/v1/merchants", {"canonical_name": "Shop", "category": "Shopping"}, format="json")
    assert response.status_code == 403
    assert not Merchant.objects.exists()


def test_staff_create_normalises_the_merchant(staff_client):
    response = staff_client.post(
        "/api/v1/merchants",
        {
            "canonical_name": "  trader joe's ",
            "category": "Groceries",
            "country": "us",
            "aliases": ["TRADER JOES #123", "trader joes #123", "TJ"],
            "tags": ["grocery"],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["canonical_name"] == "Trader Joe's"
    assert body["aliases"] == ["TJ", "TRADER JOES #123"]
    assert body["country"] == "US"
    assert Merchant.objects.get(pk=body["id"]).normalized_name == "trader joes"


@pytest.mark.parametrize(
    ("payload", "code", "existing"),
    [
        ({"canonical_name": "AMAZON"}, "duplicate_name", "amazon"),
        ({"canonical_name": "Amazon Shopping", "aliases": ["amazon"]}, "duplicate_alias", "amazon"),
        ({"canonical_name": "whole foods markets"}, "duplicate_near", "wholefoods"),
    ],
)
def test_staff_create_conflicts_are_409_with_the_existing_id(staff_client, catalogue, payload, code, existing):
    response = staff_client.post("/api/v1/merchants", {"category": "Shopping", **payload}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["existing_id"] == str(catalogue[existing].id)
    assert body["errors"][0]["code"] == code
    assert Merchant.objects.count() == 4


def test_staff_create_rejects_bad_category_and_country(staff_client):
    bad_category = staff_client.post(
        "/api/v1/merchants", {"canonical_name": "X Shop", "category": "Toys"}, format="json"
    )
    bad_country = staff_client.post(
        "/api/v1/merchants", {"canonical_name": "X Shop", "category": "Shopping", "country": "U1"}, format="json"
    )
    assert bad_category.status_code == 400
    assert bad_country.status_code == 400
    assert bad_category.json()["errors"][0]["attr"] == "category"


def test_merge_api_moves_transactions_and_is_staff_only(staff_client, auth_client, catalogue):
    target = catalogue["amazon"]
    source = make("Amzn Marketplace", ["AMZN DIGITAL"])
    transaction = TransactionFactory(merchant=source)
    url = f"/api/v1/merchants/{target.id}/merge"

    assert auth_client.post(url, {"source_ids": [str(source.id)]}, format="json").status_code == 403
    response = staff_client.post(url, {"source_ids": [str(source.id)]}, format="json")

    assert response.status_code == 200
    assert "Amzn Marketplace" in response.json()["aliases"]
    transaction.refresh_from_db()
    assert transaction.merchant_id == target.id
    assert not Merchant.objects.filter(pk=source.pk).exists()


def test_merge_api_rejects_unknown_sources(staff_client, catalogue):
    url = f"/api/v1/merchants/{catalogue['amazon'].id}/merge"
    response = staff_client.post(url, {"source_ids": ["00000000-0000-0000-0000-000000000000"]}, format="json")
    assert response.status_code == 400
    assert staff_client.post(url, {"source_ids": []}, format="json").status_code == 400


def test_stats_returns_the_callers_top_merchants(auth_client, user, other_user, catalogue):
    today = datetime.date.today()
    TransactionFactory(user=user, merchant=catalogue["starbucks"], amount=Decimal("4.50"), date=today)
    TransactionFactory(user=user, merchant=catalogue["starbucks"], amount=Decimal("5.00"), date=today)
    TransactionFactory(user=user, merchant=catalogue["amazon"], amount=Decimal("42.00"), date=today)
    TransactionFactory(user=other_user, merchant=catalogue["swiggy"], amount=Decimal("9.00"), date=today)

    response = auth_client.get("/api/v1/merchants/stats", {"date_from": str(today - datetime.timedelta(days=7))})

    assert response.status_code == 200
    assert [(r["canonical_name"], r["transaction_count"], r["total_spent"]) for r in response.json()["results"]] == [
        ("Starbucks", 2, "9.50"),
        ("Amazon", 1, "42.00"),
    ]


def test_stats_rejects_an_inverted_range(auth_client):
    response = auth_client.get("/api/v1/merchants/stats", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert response.status_code == 400


def test_categories_serves_the_fixed_list(auth_client):
    response = auth_client.get("/api/v1/categories")
    assert response.status_code == 200
    assert [c["value"] for c in response.json()] == CATEGORY_NAMES
