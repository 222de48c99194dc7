"""A JSON body keeps JSON's types: a number is no string, "yes" or 1 no boolean, "12" no
integer, 12.5 no decimal (money is text). A query string or a form body is all text, parsed
as before. Every input field of every serializer is one of config.fields' strict ones."""

import importlib
import pkgutil

import pytest
from django.http import QueryDict
from rest_framework import serializers as drf

from config import serializers


class Probe(serializers.Serializer):
    name = serializers.CharField(required=False)
    flag = serializers.BooleanField(required=False)
    count = serializers.IntegerField(required=False)
    ref = serializers.UUIDField(required=False)
    kind = serializers.ChoiceField(choices=["1", "2"], required=False)


def _errors(data):
    serializer = Probe(data=data)
    serializer.is_valid()
    return {field: [e.code for e in errors] for field, errors in serializer.errors.items()}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", 1.5),
        ("name", True),
        ("flag", "true"),
        ("flag", 1),
        ("flag", "yes"),
        ("count", "12"),
        ("count", True),
        ("ref", 0),
        ("kind", 1),
    ],
)
def test_json_values_of_another_type_are_refused(field, value):
    assert _errors({field: value}) == {field: ["invalid_choice" if field == "kind" else "invalid"]}


def test_json_values_of_the_documented_type_are_taken():
    serializer = Probe(data={"name": "x", "flag": False, "count": 3, "kind": "1"})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"name": "x", "flag": False, "count": 3, "kind": "1"}


def test_text_input_is_parsed_as_text():
    serializer = Probe(data=QueryDict("name=x&flag=TRUE&count=3&kind=2"))
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {"name": "x", "flag": True, "count": 3, "kind": "2"}


@pytest.mark.parametrize("value", ["yes", "on", "null", "t"])
def test_text_booleans_are_true_false_1_or_0(value):
    assert _errors(QueryDict(f"flag={value}")) == {"flag": ["invalid"]}


def test_a_boolean_absent_from_a_form_is_not_sent_not_false():
    serializer = Probe(data=QueryDict("name=x"))
    assert serializer.is_valid(), serializer.errors
    assert "flag" not in serializer.validated_data


def test_api_answers_a_number_for_text_with_a_400_in_the_error_shape(auth_client):
    response = auth_client.post("/api/v1/tags", {"name": 0}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "errors": [{"code": "invalid", "detail": "Not a valid string.", "attr": "name"}],
    }


def test_api_refuses_a_non_boolean_in_json_and_takes_true_in_a_form(auth_client):
    json_body = auth_client.post("/api/v1/budgets", {"category": "Groceries", "amount": "40.00", "auto_renew": 0})
    form_body = auth_client.post(
        "/api/v1/budgets", {"category": "Groceries", "amount": "40.00", "auto_renew": "true"}, format="multipart"
    )

    assert json_body.status_code == 400
    assert json_body.json()["errors"][0]["attr"] == "auto_renew"
    assert form_body.status_code == 201, form_body.json()
    assert form_body.json()["auto_renew"] is True


@pytest.mark.parametrize("amount", [12.4, 12, "1e2", " 12.40", "+12.40", "١٢"])
def test_amounts_are_plain_decimal_strings(auth_client, amount):
    response = auth_client.post("/api/v1/transactions", {"amount": amount, "date": "2026-11-04", "merchant_raw": "X"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "amount"


def test_a_minus_sign_is_refused_where_the_minimum_is_zero(auth_client):
    response = auth_client.post(
        "/api/v1/portfolio/holdings", {"asset_type": "stock", "identifier": "AAPL", "units": "-0", "cost_basis": "0"}
    )

    assert response.status_code == 400
    assert [(e["attr"], e["code"]) for e in response.json()["errors"]] == [("units", "min_value")]


STRICT_ONLY = (
    drf.BooleanField,
    drf.CharField,
    drf.ChoiceField,
    drf.EmailField,
    drf.FloatField,
    drf.IntegerField,
    drf.RegexField,
    drf.SlugField,
    drf.URLField,
    drf.UUIDField,
)
APPS = ("accounts", "budgets", "ledger", "merchants", "realtime")


def _all_serializer_classes():
    for app in APPS:
        package = importlib.import_module(app)
        for info in pkgutil.walk_packages(package.__path__, f"{app}."):
            if info.name.rsplit(".", 1)[-1] in ("serializers", "views", "tag_views", "fields"):
                importlib.import_module(info.name)
    seen, stack = set(), [drf.Serializer]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return [cls for cls in seen if cls.__module__.split(".", 1)[0] in APPS]


def _loose_fields(serializer, path=""):
    for name, field in serializer.fields.items():
        while isinstance(field, drf.ListField | drf.DictField | drf.ListSerializer):
            field = field.child
        if field.read_only:
            continue
        if isinstance(field, drf.Serializer):
            yield from _loose_fields(field, f"{path}{name}.")
        elif type(field) in STRICT_ONLY:
            yield f"{path}{name}: {type(field).__name__}"


@pytest.mark.django_db
def test_every_input_field_keeps_json_types():
    loose = {}
    for cls in _all_serializer_classes():
        try:
            instance = cls()
        except TypeError:
            continue  # needs arguments: not a request body
        found = list(_loose_fields(instance))
        if found:
            loose[f"{cls.__module__}.{cls.__name__}"] = found
    assert loose == {}, "import serializers from config (from config import serializers)"
