"""Schema pieces for errors the standard set does not cover (409, 413),
so views can document them with ``extend_schema(responses=...)``."""

from http import HTTPStatus

from drf_standardized_errors.openapi import AutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import serializers


class ClientErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ConflictErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ClientErrorSerializer(many=True)
    existing_id = serializers.CharField(required=False, help_text="The id of the object the request collided with.")


class PayloadTooLargeErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ClientErrorSerializer(many=True)


class ThrottledErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = ClientErrorSerializer(many=True)


# The first path segment after /api/v1/ names the area, except these.
_TAG_OF_SEGMENT = {
    "import-profiles": "imports",
    "categories": "merchants",
    "notifications": "realtime",
    "tags": "transactions",
    "attachments": "transactions",
}
_TAG_OF_PREFIX = {"transactions/import": "imports"}


def tag_for_path(path: str) -> str:
    """The area an API path belongs to (its one OpenAPI tag)."""
    rest = path.removeprefix("/api/v1/").strip("/")
    for prefix, tag in _TAG_OF_PREFIX.items():
        if rest == prefix or rest.startswith(prefix + "/"):
            return tag
    segment = rest.split("/", 1)[0]
    return _TAG_OF_SEGMENT.get(segment, segment)


class TallyAutoSchema(AutoSchema):
    """drf-standardized-errors' schema (the error responses) with one tag per area."""

    def get_tags(self) -> list[str]:
        return [tag_for_path(self.path)]


class ServiceUnavailableErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = ClientErrorSerializer(many=True)


def add_reason_phrases(result, generator, request, public):
    """Postprocessing hook: a response without a description gets its status's
    reason phrase ("Too Many Requests"), so Swagger UI never shows "Unknown
    Status" and every documented status says what it is."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for code, response in (operation.get("responses") or {}).items():
                if isinstance(response, dict) and not response.get("description"):
                    try:
                        response["description"] = HTTPStatus(int(code)).phrase
                    except ValueError:  # "default" or a code HTTPStatus does not know
                        response["description"] = str(code)
    return result
