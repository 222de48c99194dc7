"""Schema pieces for errors the standard set does not cover (409, 413),
so views can document them with ``extend_schema(responses=...)``."""

from drf_standardized_errors.openapi_serializers import ClientErrorEnum
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
