"""The API's orjson renderer writes what DRF's JSONRenderer writes."""

import datetime
import uuid
from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from config.renderers import FastJSONRenderer

PAYLOAD = {
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "at": datetime.datetime(2026, 12, 3, 9, 30, 1, 123456, tzinfo=datetime.UTC),
    "naive": datetime.datetime(2026, 12, 3, 9, 30),
    "day": datetime.date(2026, 12, 3),
    "time": datetime.time(9, 30, 1, 500000),
    "amount": Decimal("12.50"),
    "label": gettext_lazy("Groceries"),
    "text": 'Café \u2014 "quoted" </script>',
    "nested": ReturnDict({"rows": ReturnList([1, 2.5, None, True], serializer=None)}, serializer=None),
    "tuple": (1, 2),
}


def test_renders_the_same_bytes_as_drfs_renderer():
    assert FastJSONRenderer().render(PAYLOAD) == JSONRenderer().render(PAYLOAD)


def test_what_orjson_refuses_falls_back_to_drf():
    for data in ({"big": 2**70}, {1: "integer key"}):
        assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_an_indent_asked_for_is_honoured():
    rendered = FastJSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert rendered == JSONRenderer().render({"a": 1}, "application/json; indent=2")
    assert b"\n" in rendered


def test_nothing_renders_empty():
    assert FastJSONRenderer().render(None) == b""


def test_the_api_answers_through_it(auth_client):
    response = auth_client.get("/api/v1/categories")
    assert response.status_code == 200
    assert type(response.accepted_renderer) is FastJSONRenderer
