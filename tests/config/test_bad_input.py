"""Bad input is a clear 4xx in the error shape, never a 500 (issue 13)."""

import pytest
from django.test import Client

from ledger.models import Transaction
from realtime.models import Notification

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 10_000 + "]" * 10_000
THREE_MB = 3 * 1024 * 1024


def error_codes(response):
    return [error["code"] for error in response.json()["errors"]]


@pytest.fixture
def client_no_raise(auth_client):
    auth_client.raise_request_exception = False
    return auth_client


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("url", ["/api/v1/transactions", "/api/v1/budgets", "/api/v1/rules", "/api/v1/auth/me"])
def test_json_nested_ten_thousand_deep_is_a_400(client_no_raise, settings, url, debug):
    settings.DEBUG = debug
    method = client_no_raise.patch if url.endswith("/me") else client_no_raise.post

    response = method(url, DEEP_JSON, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["type"] == "client_error"
    assert error_codes(response) == ["parse_error"]
    assert Transaction.objects.count() == 0


def test_json_nested_deep_is_a_400_on_login_unauthenticated(db):
    response = Client(raise_request_exception=False).post(
        "/api/v1/auth/login", DEEP_JSON, content_type="application/json"
    )

    assert response.status_code == 400
    assert error_codes(response) == ["parse_error"]


def test_json_nested_below_the_recursion_limit_but_above_the_bound_is_a_400(client_no_raise):
    body = '{"merchant_raw": "x", "amount": "1", "date": "2026-01-01", "notes": ' + "[" * 200 + "]" * 200 + "}"

    response = client_no_raise.post("/api/v1/transactions", body, content_type="application/json")

    assert response.status_code == 400
    assert error_codes(response) == ["parse_error"]
    assert Transaction.objects.count() == 0


def test_ordinary_nesting_still_parses(client_no_raise):
    rule = {
        "name": "nested",
        "conditions": {"all": [{"any": [{"field": "merchant", "op": "contains", "value": "tesco"}]}]},
        "actions": [{"type": "set_category", "value": "Groceries"}],
    }

    response = client_no_raise.post("/api/v1/rules", rule, format="json")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("url", "content_type", "body"),
    [
        ("/api/v1/transactions", "application/json", '{"notes": "' + "x" * THREE_MB + '"}'),
        ("/api/v1/notifications/read", "application/x-www-form-urlencoded", "ids=" + "1" * THREE_MB),
        ("/api/v1/auth/login", "application/json", '{"email": "' + "a" * THREE_MB + '"}'),
        ("/api/v1/nope", "application/json", '{"x": "' + "a" * THREE_MB + '"}'),
    ],
)
def test_three_megabyte_body_is_a_413_in_the_error_shape(client_no_raise, settings, url, content_type, body, debug):
    settings.DEBUG = debug

    response = client_no_raise.post(url, body, content_type=content_type)

    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "type": "client_error",
        "errors": [{"code": "too_large", "detail": "The request body is too large.", "attr": None}],
    }
    assert Transaction.objects.count() == 0


def test_multipart_with_oversized_fields_is_a_413(client_no_raise):
    boundary = "zz"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="notes"\r\n\r\n'
        + "x" * THREE_MB
        + f"\r\n--{boundary}--\r\n"
    )

    response = client_no_raise.post(
        "/api/v1/transactions/import", body.encode(), content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.status_code == 413
    assert error_codes(response) == ["too_large"]


def test_form_encoded_notifications_read_with_many_ids_is_a_400(client_no_raise, user):
    Notification.objects.create(user=user, type="budget_alert", data={})
    body = "&".join(f"ids={i}" for i in range(2000))

    response = client_no_raise.post(
        "/api/v1/notifications/read", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert error_codes(response) == ["too_many_fields"]
    assert Notification.objects.filter(user=user, read_at__isnull=True).count() == 1


def test_multipart_notifications_read_with_many_ids_is_a_400(client_no_raise):
    boundary = "zz"
    part = f'--{boundary}\r\nContent-Disposition: form-data; name="ids"\r\n\r\n1\r\n'
    body = (part * 1200 + f"--{boundary}--\r\n").encode()

    response = client_no_raise.post(
        "/api/v1/notifications/read", body, content_type=f"multipart/form-data; boundary={boundary}"
    )

    assert response.status_code == 400
    assert error_codes(response) == ["too_many_fields"]


@pytest.mark.parametrize("amount", ["١٢", "１２", "1２.00", "٣"])
def test_amounts_accept_ascii_digits_only(client_no_raise, amount):
    response = client_no_raise.post(
        "/api/v1/transactions", {"amount": amount, "date": "2026-01-01", "merchant_raw": "Tesco"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "amount"
    assert Transaction.objects.count() == 0


def test_budget_amounts_accept_ascii_digits_only(client_no_raise):
    response = client_no_raise.post("/api/v1/budgets", {"category": "Groceries", "amount": "１２"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "amount"


def test_amount_filters_accept_ascii_digits_only(client_no_raise):
    response = client_no_raise.get("/api/v1/transactions", {"min_amount": "١٢"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "min_amount"


def test_rule_condition_amounts_accept_ascii_digits_only(client_no_raise):
    rule = {
        "name": "fullwidth",
        "conditions": {"all": [{"field": "amount", "op": "gt", "value": "１２"}]},
        "actions": [{"type": "set_category", "value": "Groceries"}],
    }

    refused = client_no_raise.post("/api/v1/rules", rule, format="json")
    rule["conditions"]["all"][0]["value"] = "12"
    accepted = client_no_raise.post("/api/v1/rules", rule, format="json")

    assert refused.status_code == 400
    assert refused.json()["errors"][0]["attr"] == "conditions.all[0].value"
    assert accepted.status_code == 201, accepted.content


def test_notes_are_bounded_to_two_thousand_characters(client_no_raise, user):
    ok = client_no_raise.post(
        "/api/v1/transactions",
        {"amount": "1", "date": "2026-01-01", "merchant_raw": "Tesco", "notes": "n" * 2000},
        format="json",
    )
    too_long = client_no_raise.post(
        "/api/v1/transactions",
        {"amount": "2", "date": "2026-01-01", "merchant_raw": "Tesco", "notes": "n" * 2001},
        format="json",
    )
    patched = client_no_raise.patch(f"/api/v1/transactions/{ok.json()['id']}", {"notes": "m" * 2001}, format="json")
    bulk = client_no_raise.post(
        "/api/v1/transactions/bulk", {"ids": [ok.json()["id"]], "set": {"notes": "b" * 2001}}, format="json"
    )

    assert ok.status_code == 201
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0] == {
        "code": "max_length",
        "detail": "Ensure this field has no more than 2000 characters.",
        "attr": "notes",
    }
    assert patched.status_code == 400
    assert bulk.status_code == 400
    assert list(Transaction.objects.values_list("notes", flat=True)) == ["n" * 2000]


@pytest.mark.parametrize("url", ["/api/v1/transactions", "/api/v1/transactions/export"])
@pytest.mark.parametrize("query", ["tag=%00", "tag=ok&tag=a%00b", "q=%00"])
def test_nul_in_a_text_filter_is_a_400(client_no_raise, url, query):
    response = client_no_raise.get(f"{url}?{query}")

    assert response.status_code == 400, response.content
    assert error_codes(response) == ["null_characters_not_allowed"]


def test_nul_in_a_bulk_filter_tag_is_a_400_and_changes_nothing(client_no_raise):
    body = {"filter": {"tag": ["\x00"]}, "set": {"notes": "x"}}

    response = client_no_raise.post("/api/v1/transactions/bulk", body, format="json")

    assert response.status_code == 400, response.content
    assert error_codes(response) == ["null_characters_not_allowed"]


RULE_ACTIONS = '[{"type": "set_notes", "value": "x"}]'


@pytest.mark.parametrize(
    "method, url, body, attr",
    [
        ("post", "/api/v1/rules", '{"name": "r", "conditions": {"field": "notes", "op": "contains", '
         '"value": "\\ud800"}, "actions": ' + RULE_ACTIONS + "}", "conditions.value"),
        ("post", "/api/v1/rules", '{"name": "r", "conditions": {"field": "notes", "op": "contains", "value": "a"}, '
         '"actions": [{"type": "add_tags", "value": ["\\udfff"]}]}', "actions.0.value.0"),
        ("post", "/api/v1/rules/test", '{"conditions": {"field": "merchant_raw", "op": "regex", "value": "\\ud800"}, '
         '"actions": ' + RULE_ACTIONS + ', "transaction": {}}', "conditions.value"),
        ("patch", "/api/v1/auth/me", '{"preferences": {"theme": "\\ud800"}}', "preferences.theme"),
        ("post", "/api/v1/import-profiles", '{"name": "p", "format": "csv", "columns": {"date": "D"}, '
         '"category_map": {"\\ud800": "Groceries"}}', "category_map"),
        ("post", "/api/v1/transactions/bulk", '{"filter": {"q": "\\ud800"}, "set": {"notes": "x"}}', "filter.q"),
        ("post", "/api/v1/transactions/bulk", '{"filter": {"tag": ["\\ud800"]}, "delete": true}', "filter.tag.0"),
        ("post", "/api/v1/tags", '{"name": "x\\ud800"}', "name"),
    ],
)  # fmt: skip
def test_a_lone_surrogate_anywhere_in_a_json_body_is_a_400_naming_where(client_no_raise, method, url, body, attr):
    response = getattr(client_no_raise, method)(url, body, content_type="application/json")

    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
    assert response.json()["errors"] == [
        {"code": "surrogate_characters_not_allowed", "detail": response.json()["errors"][0]["detail"], "attr": attr}
    ]


@pytest.mark.parametrize(
    "conditions, actions",
    [
        ({"field": "notes", "op": "contains", "value": "a\x00"}, [{"type": "set_notes", "value": "x"}]),
        ({"field": "notes", "op": "contains", "value": "a"}, [{"type": "add_tags", "value": ["\x00"]}]),
    ],
)
def test_a_nul_in_a_rule_is_a_400_and_no_rule_is_saved(client_no_raise, conditions, actions):
    from ledger.models import Rule

    body = {"name": "r", "conditions": conditions, "actions": actions}
    response = client_no_raise.post("/api/v1/rules", body, format="json")

    assert response.status_code == 400, response.content
    assert error_codes(response) == ["null_characters_not_allowed"]
    assert not Rule.objects.exists()
