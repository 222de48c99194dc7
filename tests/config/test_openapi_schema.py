"""The schema states what the API does (bounds, statuses, error shapes), and
the bugs the fuzzer found stay fixed."""

import uuid

import pytest


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _operation(schema, path, method):
    return schema["paths"][path][method]


def _param(operation, name):
    return next(p for p in operation["parameters"] if p["name"] == name)


@pytest.mark.parametrize("path", ["/api/v1/budgets", "/api/v1/imports/{id}"])  # a list, and a detail's rows
def test_list_bounds_are_declared(schema, path):
    listing = _operation(schema, path, "get")
    assert _param(listing, "limit")["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}
    assert _param(listing, "offset")["schema"]["minimum"] == 0


def test_an_attachment_of_a_type_not_allowed_is_a_415_in_the_documented_shape(schema):
    # The view answers code unsupported_file_type: the shared client-error shape (any code), not the
    # generic 415 whose code enum is only unsupported_media_type.
    responses = _operation(schema, "/api/v1/transactions/{transaction_id}/attachments", "post")["responses"]
    assert responses["415"]["content"]["application/json"]["schema"]["$ref"].endswith("/ClientErrorResponse")


@pytest.mark.parametrize(("path", "method", "status"), [
    ("/api/v1/auth/login", "post", "401"),
    ("/api/v1/auth/refresh", "post", "401"),
    ("/api/v1/transactions/{id}", "patch", "409"),
    ("/api/v1/transactions", "post", "409"),
    ("/api/v1/transactions", "post", "413"),
    ("/api/v1/transactions", "post", "415"),
    ("/api/v1/budgets", "get", "400"),
    ("/api/v1/auth/login", "post", "503"),
    ("/api/v1/realtime/ticket", "post", "503"),
    ("/api/v1/import-profiles/{id}", "patch", "409"),  # name taken
    ("/api/v1/rules", "post", "404"),  # a mark_transfer account that is not the caller's
    ("/api/v1/rules/test", "post", "404"),
])  # fmt: skip
def test_status_is_documented(schema, path, method, status):
    assert status in _operation(schema, path, method)["responses"]


def test_bad_request_discriminates_every_error_type(schema):
    response = _operation(schema, "/api/v1/transactions", "post")["responses"]["400"]
    ref = response["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    mapping = schema["components"]["schemas"][ref]["discriminator"]["mapping"]
    assert set(mapping) == {"validation_error", "client_error"}
    validation = schema["components"]["schemas"]["ValidationErrorResponse"]
    assert validation["properties"]["errors"]["items"]["$ref"].endswith("/Error")


def test_json_api_offers_json_and_uploads_multipart(schema):
    assert list(_operation(schema, "/api/v1/transactions", "post")["requestBody"]["content"]) == ["application/json"]
    assert list(_operation(schema, "/api/v1/imports", "post")["requestBody"]["content"]) == ["multipart/form-data"]


def test_main_operations_have_examples(schema):
    login = _operation(schema, "/api/v1/auth/login", "post")
    assert login["requestBody"]["content"]["application/json"]["examples"]
    assert login["responses"]["200"]["content"]["application/json"]["examples"]
    assert _operation(schema, "/api/v1/budgets/status", "get")["responses"]["200"]["content"]["application/json"][
        "examples"
    ]


def test_session_id_that_is_not_a_uuid_is_a_json_404(auth_client):
    response = auth_client.delete("/api/v1/auth/sessions/null,null")

    assert response.status_code == 404
    assert response.json()["type"] == "client_error"


def test_import_commit_with_skip_rows_not_a_list_is_a_400(auth_client):
    response = auth_client.post(f"/api/v1/imports/{uuid.uuid4()}/commit", {"skip_rows": False}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "skip_rows"


@pytest.mark.parametrize("url", ["/api/v1/budgets?auto_renew=maybe", "/api/v1/accounts?closed=-5",
                                 "/api/v1/transactions?has_attachments=x"])  # fmt: skip
def test_boolean_filter_refuses_junk(auth_client, url):
    response = auth_client.get(url)

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_boolean_filter_empty_means_unfiltered(auth_client):
    assert auth_client.get("/api/v1/budgets?auto_renew=").status_code == 200


def test_transfer_match_with_unknown_legs_is_a_404(auth_client):
    response = auth_client.post(
        "/api/v1/transfers/match", {"out_id": str(uuid.uuid4()), "in_id": str(uuid.uuid4())}, format="json"
    )

    assert response.status_code == 404


def _body_property(schema, path, method, name, media_type="application/json"):
    ref = _operation(schema, path, method)["requestBody"]["content"][media_type]["schema"]["$ref"]
    prop = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"][name]
    return prop["oneOf"][0] if "oneOf" in prop else prop  # allow_blank: a second branch for ""


@pytest.mark.parametrize(("path", "method", "name", "pattern"), [
    ("/api/v1/accounts", "post", "currency", r"^[A-Za-z]{3}$"),
    ("/api/v1/accounts", "post", "number_mask", r"^[0-9]{4}$"),
    ("/api/v1/transactions", "post", "currency", r"^[A-Za-z]{3}$"),
    ("/api/v1/tags", "post", "color", r"^#[0-9a-fA-F]{6}$"),
    ("/api/v1/tags/{id}", "patch", "color", r"^#[0-9a-fA-F]{6}$"),
    ("/api/v1/portfolio/holdings", "post", "currency", r"^[A-Za-z]{3}$"),
    ("/api/v1/portfolio/holdings/{id}", "patch", "currency", r"^[A-Za-z]{3}$"),
    ("/api/v1/portfolio/holdings/{id}/valuation", "post", "valued_at", r"^(?:19\d\d|20\d\d|2100)-\d\d-\d\d"),
])  # fmt: skip
def test_regex_fields_document_their_pattern(schema, path, method, name, pattern):
    assert _body_property(schema, path, method, name)["pattern"] == pattern


def test_decimal_minimums_are_in_the_pattern(schema):
    import re

    units = re.compile(_body_property(schema, "/api/v1/portfolio/holdings", "post", "units")["pattern"])
    budget = re.compile(_body_property(schema, "/api/v1/budgets", "post", "amount")["pattern"])
    amount = re.compile(_body_property(schema, "/api/v1/transactions", "post", "amount")["pattern"])

    assert [bool(units.search(v)) for v in ("0", "1.5", "-1", "-0", "")] == [True, True, False, False, False]
    assert [bool(budget.search(v)) for v in ("0.01", "400", "0", "0.00", ".0", "-5")] == [
        True, True, False, False, False, False
    ]  # fmt: skip
    assert [bool(amount.search(v)) for v in ("-12.40", "007.5", "12.345", "1e2", "-0.0")] == [
        True, True, False, False, False
    ]  # fmt: skip


def test_query_parameters_document_their_format(schema):
    month = _param(_operation(schema, "/api/v1/budgets/comparison", "get"), "month")["schema"]
    unread = _param(_operation(schema, "/api/v1/notifications", "get"), "unread")["schema"]
    report_format = _param(_operation(schema, "/api/v1/reports/cashflow", "get"), "format")["schema"]

    assert month["pattern"] == r"^(?:19\d\d|20\d\d|2100)-(?:0[1-9]|1[0-2])$"
    assert unread == {"type": "boolean"}
    assert report_format["enum"] == ["json", "csv"]


@pytest.mark.parametrize("path", ["/api/v1/reports/cashflow", "/api/v1/reports/spending", "/api/v1/reports/trends",
                                  "/api/v1/transactions/export"])  # fmt: skip
def test_csv_answers_are_documented(schema, path):
    assert {"application/json", "text/csv"} <= set(_operation(schema, path, "get")["responses"]["200"]["content"])


@pytest.mark.parametrize(("path", "method"), [
    ("/api/v1/transactions", "post"), ("/api/v1/transfers", "post"),
    ("/api/v1/transactions", "get"), ("/api/v1/imports", "post"),
])  # fmt: skip
def test_an_operation_that_takes_an_id_documents_404(schema, path, method):
    assert "404" in _operation(schema, path, method)["responses"]


def test_trace_on_export_with_a_format_is_a_405(auth_client):
    response = auth_client.generic("TRACE", "/api/v1/transactions/export?format=csv")

    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"


def test_format_is_not_a_hidden_renderer_switch(auth_client):
    assert auth_client.get("/api/v1/budgets?format=csv").status_code == 200


def test_export_with_an_empty_format_is_csv(auth_client):
    response = auth_client.get("/api/v1/transactions/export?format=")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_report_errors_are_json_even_with_format_csv(auth_client):
    response = auth_client.get("/api/v1/reports/cashflow?format=csv&since=2026-02-01&until=2026-01-01")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "since"


def test_report_with_an_empty_account_is_unfiltered(auth_client):
    assert auth_client.get("/api/v1/reports/cashflow?account=").status_code == 200


@pytest.mark.parametrize("value", ["null", "yes", "2"])
def test_notifications_unread_junk_is_a_400(auth_client, value):
    response = auth_client.get(f"/api/v1/notifications?unread={value}&unread={value}")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "unread"


def test_notifications_without_unread_lists_read_and_unread(auth_client, user):
    from realtime.models import Notification

    Notification.objects.create(user=user, type="t", data={})
    Notification.objects.create(user=user, type="t", data={}, read_at="2026-11-01T00:00:00Z")

    assert auth_client.get("/api/v1/notifications").json()["count"] == 2
