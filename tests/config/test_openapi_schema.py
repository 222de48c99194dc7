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


def test_list_bounds_are_declared(schema):
    listing = _operation(schema, "/api/v1/budgets", "get")
    assert _param(listing, "limit")["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}
    assert _param(listing, "offset")["schema"]["minimum"] == 0


@pytest.mark.parametrize(("path", "method", "status"), [
    ("/api/v1/auth/login", "post", "401"),
    ("/api/v1/auth/refresh", "post", "401"),
    ("/api/v1/transactions/{id}", "patch", "409"),
    ("/api/v1/transactions", "post", "409"),
    ("/api/v1/transactions", "post", "413"),
    ("/api/v1/transactions", "post", "415"),
    ("/api/v1/budgets", "get", "400"),
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
