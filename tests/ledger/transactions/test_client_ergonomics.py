"""What a client copies from one endpoint works in the next: category keys
(FOOD_DINING, as GET categories lists them) wherever a category is taken, and
``merchant`` (the CSV column's name) as an alias of ``merchant_raw``."""

import pytest

from ledger.models import Transaction
from merchants.categories import Category

pytestmark = pytest.mark.django_db

BODY = {"amount": "12.34", "date": "2026-03-05", "allow_duplicate": True}


def test_categories_list_their_keys_and_labels_keep_the_ampersand(auth_client):
    listed = auth_client.get("/api/v1/categories").json()

    assert {"key": "FOOD_DINING", "value": "Food & Dining"} in [{"key": c["key"], "value": c["value"]} for c in listed]
    assert Category.FOOD_DINING.label == "Food & Dining" and Category.BILLS_UTILITIES.label == "Bills & Utilities"


def test_a_category_key_is_accepted_on_create_update_and_budgets(auth_client):
    created = auth_client.post("/api/v1/transactions", {**BODY, "merchant_raw": "Cafe", "category": "FOOD_DINING"})
    assert created.status_code == 201, created.content
    assert created.json()["category"] == "Food & Dining"

    updated = auth_client.patch(f"/api/v1/transactions/{created.json()['id']}", {"category": "groceries"})
    assert updated.status_code == 200, updated.content
    assert Transaction.objects.get(pk=created.json()["id"]).category == "Groceries"

    budget = auth_client.post("/api/v1/budgets", {"category": "BILLS_UTILITIES", "amount": "80.00"})
    assert budget.status_code in (200, 201), budget.content
    assert budget.json()["category"] == "Bills & Utilities"


def test_an_unknown_category_is_still_a_400(auth_client):
    response = auth_client.post("/api/v1/transactions", {**BODY, "merchant_raw": "Cafe", "category": "NOT_A_KEY"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "category"


def test_merchant_is_an_alias_of_merchant_raw(auth_client):
    response = auth_client.post("/api/v1/transactions", {**BODY, "merchant": "Corner Cafe"})

    assert response.status_code == 201, response.content
    assert response.json()["merchant_raw"] == "Corner Cafe"
    assert Transaction.objects.get(pk=response.json()["id"]).merchant_raw == "Corner Cafe"


def test_merchant_and_merchant_raw_must_agree_and_one_is_required(auth_client):
    both = auth_client.post("/api/v1/transactions", {**BODY, "merchant": "A", "merchant_raw": "B"})
    neither = auth_client.post("/api/v1/transactions", BODY)
    same = auth_client.post("/api/v1/transactions", {**BODY, "merchant": "Same", "merchant_raw": "Same"})

    assert both.status_code == 400 and both.json()["errors"][0]["attr"] == "merchant"
    assert neither.status_code == 400 and neither.json()["errors"][0]["attr"] == "merchant_raw"
    assert same.status_code == 201
    assert Transaction.objects.count() == 1
