from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """limit/offset paging that refuses, rather than silently clamps, a limit
    outside 1..100 or a negative offset: a client asking for 500 rows should
    learn it gets 100."""

    default_limit = 50
    max_limit = 100

    def get_limit(self, request):
        raw = request.query_params.get(self.limit_query_param)
        if raw is None or raw == "":
            return self.default_limit
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationError({"limit": ["Must be an integer."]}, code="invalid")
        if not 1 <= limit <= self.max_limit:
            raise ValidationError({"limit": [f"Must be between 1 and {self.max_limit}."]}, code="out_of_range")
        return limit

    def get_offset(self, request):
        raw = request.query_params.get(self.offset_query_param)
        if raw is None or raw == "":
            return 0
        try:
            offset = int(raw)
        except ValueError:
            raise ValidationError({"offset": ["Must be an integer."]}, code="invalid")
        if offset < 0:
            raise ValidationError({"offset": ["Must be zero or more."]}, code="out_of_range")
        return offset

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": f"Rows per page, 1 to {self.max_limit} (default {self.default_limit}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit, "default": self.default_limit},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Rows to skip (default 0).",
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
        ]
