import pytest
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.pagination import StrictLimitOffsetPagination


def _request(query):
    return Request(APIRequestFactory().get("/x", query))


@pytest.mark.parametrize(
    "query, limit, offset", [({}, 50, 0), ({"limit": "100", "offset": "7"}, 100, 7), ({"limit": "1"}, 1, 0)]
)
def test_limits_in_range_are_used(query, limit, offset):
    paginator = StrictLimitOffsetPagination()
    assert paginator.get_limit(_request(query)) == limit
    assert paginator.get_offset(_request(query)) == offset


@pytest.mark.parametrize(
    "query", [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"offset": "-1"}, {"offset": "x"}]
)
def test_limits_out_of_range_are_refused(query):
    paginator = StrictLimitOffsetPagination()
    with pytest.raises(ValidationError):
        paginator.get_limit(_request(query))
        paginator.get_offset(_request(query))
