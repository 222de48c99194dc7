from config import serializers
from config.fields import AsciiDecimalField, BoundedDateField
from ledger.recurrences import services as subscriptions


class RecurrenceMerchantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    canonical_name = serializers.CharField()


class RecurrenceOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    merchant = RecurrenceMerchantSerializer(allow_null=True)
    merchant_name = serializers.SerializerMethodField()
    amount_mean = AsciiDecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    currency = serializers.CharField(
        help_text="What amount_mean is in: the charges' own currency, or the base currency when they were "
        "charged in several (the mean of their converted amounts)."
    )
    period_days = serializers.IntegerField()
    last_date = BoundedDateField()
    next_expected_date = BoundedDateField()
    confidence = serializers.FloatField()
    occurrences = serializers.IntegerField()
    dismissed = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_merchant_name(self, obj) -> str:
        return subscriptions.recurrence_display_name(obj)


class RecurrenceListQuerySerializer(serializers.Serializer):
    dismissed = serializers.BooleanField(required=False, default=False)


class RecurrenceUpdateInputSerializer(serializers.Serializer):
    dismissed = serializers.BooleanField()
