"""Schema pieces for errors the standard set does not cover (409, 413, 429, 503),
so views can document them with ``extend_schema(responses=...)``."""

from http import HTTPStatus

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
