from config import serializers
from realtime.models import Notification


class NotificationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "type", "data", "created_at", "read_at"]


class NotificationListInputSerializer(serializers.Serializer):
    after_id = serializers.IntegerField(required=False, min_value=0, help_text="Only notifications with a larger id.")
    # Not nullable: ?unread=null is an error, not "not filtered" (leave it out for that).
    unread = serializers.BooleanField(required=False, help_text="true: unread only; false: read only.")


class NotificationReadInputSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000)
    up_to_id = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        if ("ids" in attrs) == ("up_to_id" in attrs):
            raise serializers.ValidationError("Send exactly one of `ids` or `up_to_id`.", code="invalid")
        return attrs


class NotificationReadOutputSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


class TicketOutputSerializer(serializers.Serializer):
    ticket = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the ticket stays valid; it works once.")
