"""Schemathesis over /api/schema/, in-process (the WSGI app on the test
database), every operation with every check, as a real user with data.

One pytest item per operation (xdist spreads them). A schema-valid request may
still break a rule the schema cannot state (a wrong current password, a range
longer than ten years): DOMAIN_REJECTIONS lists those answers per operation,
and only for them the positive-data check is waived; every other check still
runs on that response."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    positive_data_acceptance,
)

from config.wsgi import application
from tests.conftest import access_token_for

FUZZ_CONFIG = schemathesis.Config.from_dict(
    {
        # The bearer token is the fixture's: generated Authorization values would be overwritten.
        "generation": {"mode": "all", "max-examples": 5, "deterministic": True, "with-security-parameters": False},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        "checks": {"enabled": True},
    }
)

schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=FUZZ_CONFIG)

# "METHOD path": {(attr, code), ...}: 400s that answer a well-formed request which breaks a rule
# no schema can express (state, secrets, relations between fields).
DOMAIN_REJECTIONS: dict[str, set[tuple[str | None, str]]] = {
    # Secrets and tokens the fuzzer cannot know; password strength (similarity, common words).
    "POST /api/v1/auth/password/change": {("old_password", "wrong_password"), ("new_password", "weak_password")},
    "POST /api/v1/auth/password/reset/confirm": {("token", "invalid_token"), ("new_password", "weak_password")},
    "POST /api/v1/auth/verify-email/confirm": {("token", "invalid_token")},
    "POST /api/v1/auth/register": {("password", "weak_password")},
    # Relations between fields.
    # since after until (until defaults to today), or more than ten years before it.
    "GET /api/v1/reports/cashflow": {("since", "invalid"), ("until", "invalid")},
    "GET /api/v1/reports/spending": {("since", "invalid"), ("until", "invalid")},
    "GET /api/v1/reports/trends": {("since", "invalid"), ("until", "invalid")},
    "GET /api/v1/reports/net-worth": {("since", "invalid"), ("until", "invalid")},
    "GET /api/v1/merchants/stats": {("date_from", "invalid")},
    "POST /api/v1/notifications/read": {("non_field_errors", "invalid")},
    # With ?cursor=: ordering only by date, no offset (parameters cannot depend on each other); an
    # opaque cursor the fuzzer made up.
    "GET /api/v1/transactions": {("cursor", "invalid"), ("offset", "invalid")},
    "POST /api/v1/transactions/bulk": {(None, "invalid")},
    "POST /api/v1/transactions": {("merchant", "invalid")},  # an alias of merchant_raw: both must agree
    "POST /api/v1/budgets": {("end_date", "invalid")},
    # A currency code must be a real ISO 4217 one; a webhook URL must be http(s).
    "POST /api/v1/accounts": {("currency", "invalid_currency"), ("currency", "invalid"), ("iban", "invalid_iban")},
    "POST /api/v1/portfolio/holdings": {("currency", "invalid"), ("identifier", "invalid")},
    "PATCH /api/v1/portfolio/holdings/{id}": {("currency", "invalid"), ("identifier", "invalid")},
    "PATCH /api/v1/auth/me": {
        ("current_password", "wrong_password"),
        ("current_password", "required"),  # only when the e-mail changes
        ("preferences.currency", "invalid"),
        ("base_currency", "unknown_currency"),
    },
    "GET /api/v1/rates": {("date", "future_date"), ("currency", "unknown_currency")},
    "POST /api/v1/webhooks": {("url", "invalid_scheme"), ("url", "invalid")},
    # Rule conditions and actions are a small language of their own, checked by its parser.
    "POST /api/v1/rules": {("conditions", "*"), ("actions", "*")},
    "PATCH /api/v1/rules/{id}": {("conditions", "*"), ("actions", "*")},
    "POST /api/v1/rules/test": {("conditions", "*"), ("actions", "*"), ("transaction", "*")},
    # An import profile's decimal and thousands separators must differ.
    "POST /api/v1/import-profiles": {(None, "invalid_profile")},
    "PATCH /api/v1/import-profiles/{id}": {(None, "invalid_profile")},
    "POST /api/v1/imports": {(None, "invalid_profile")},
    # An uploaded file's content.
    # The statement parser's verdict on the file (bad_header, no_rows, unknown_format, ...), a currency with no
    # account, and the same profile overrides as POST imports; an object key with NUL (jsonb refuses it),
    # which OpenAPI 3.0 has no way to state (no propertyNames).
    "POST /api/v1/transactions/import": {
        ("file", "*"),
        (None, "invalid_profile"),
        ("category_map", "null_key"),
        ("columns", "null_key"),
        # A text of spaces is blank once trimmed; the schema's minLength cannot say so.
        ("header_signature", "blank"),
        ("direction_out_values", "blank"),
        ("direction_in_values", "blank"),
        ("profile", "blank"),
    },
}


def _operation_key(case) -> str:
    # The operation's, not the request's: a probe may send TRACE to a GET operation.
    return f"{case.operation.method.upper()} {case.operation.path}"


def _attr_matches(attr, allowed_attr) -> bool:
    if attr == allowed_attr:
        return True
    return bool(attr and allowed_attr) and attr.startswith((f"{allowed_attr}[", f"{allowed_attr}."))


def _is_domain_rejection(case, response) -> bool:
    allowed = DOMAIN_REJECTIONS.get(_operation_key(case))
    if not allowed or response.status_code != 400:
        return False
    errors = response.json().get("errors", [])
    return bool(errors) and all(
        any(_attr_matches(e.get("attr"), attr) and code in (e.get("code"), "*") for attr, code in allowed)
        for e in errors
    )


@pytest.fixture(autouse=True)
def keep_test_connection():
    """Django's WSGI handler closes the connection after each request; the test's
    transaction must survive it (django.test.Client does the same)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def bearer(user):
    return {"Authorization": f"Bearer {access_token_for(user)}"}


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_operation_conforms_to_schema(case, bearer):
    response = case.call(headers=bearer)
    excluded = []
    if _is_domain_rejection(case, response):
        excluded.append(positive_data_acceptance)
    case.validate_response(response, headers=bearer, excluded_checks=excluded)
