from config import serializers
from realtime.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from realtime.webhooks.events import WEBHOOK_EVENT_TYPES
from realtime.webhooks.services import MAX_GRACE_HOURS
from realtime.webhooks.ssrf import MAX_URL_LENGTH


class EndpointInputSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=MAX_URL_LENGTH,
        help_text="http(s) URL (https only in production); it must not resolve to a loopback, private, "
        "link-local, multicast or metadata address.",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENT_TYPES),
        required=False,
        min_length=1,
        max_length=len(WEBHOOK_EVENT_TYPES),
        help_text="Event types to receive; every type when omitted.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    enabled = serializers.BooleanField(required=False)


class EndpointOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "events",
            "enabled",
            "consecutive_failures",
            "disabled_at",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]


class EndpointWithSecretOutputSerializer(EndpointOutputSerializer):
    secret = serializers.CharField(help_text="Shown only now: store it to verify signatures (Standard Webhooks).")

    class Meta(EndpointOutputSerializer.Meta):
        fields = [*EndpointOutputSerializer.Meta.fields, "secret"]


class RotateSecretInputSerializer(serializers.Serializer):
    grace_hours = serializers.IntegerField(
        min_value=0,
        max_value=MAX_GRACE_HOURS,
        default=24,
        help_text="Hours the old secret keeps signing next to the new one (0: stop at once).",
    )


class AttemptOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "succeeded", "response_code", "duration_ms", "response_body", "error", "created_at"]


class DeliveryOutputSerializer(serializers.ModelSerializer):
    attempts = AttemptOutputSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "payload",
            "is_test",
            "status",
            "attempt",
            "response_code",
            "duration_ms",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "created_at",
            "attempts",
        ]


class DeliveryListInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices, required=False)
