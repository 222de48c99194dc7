from django.utils import timezone

from config import serializers
from config.currencies import ISO_4217
from config.fields import AsciiDecimalField, BoundedDateField


class CurrencyCodeField(serializers.CharField):
    """An active ISO 4217 code, any case in, upper case out; anything else is a 400."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 3)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        code = super().to_internal_value(data).strip().upper()
        if code not in ISO_4217:
            raise serializers.ValidationError("Not an ISO 4217 currency code.", code="unknown_currency")
        return code


class RatesQuerySerializer(serializers.Serializer):
    date = BoundedDateField(required=False, help_text="Default: today.")
    currency = CurrencyCodeField(required=False, help_text="Only this currency's rate.")

    def validate_date(self, value):
        if value > timezone.localdate():
            raise serializers.ValidationError("No rates exist for a future date.", code="future_date")
        return value


class RateInputSerializer(serializers.Serializer):
    currency = CurrencyCodeField()
    date = BoundedDateField()
    rate = AsciiDecimalField(
        max_digits=18, decimal_places=6, help_text="Units of the currency per 1 EUR: above 0, at most 1,000,000."
    )


class CurrencyOutputSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    has_rates = serializers.BooleanField(help_text="EUR always; others when ExchangeRate holds any.")
    rates_from = serializers.DateField(allow_null=True)
    rates_until = serializers.DateField(allow_null=True)


class RateOutputSerializer(serializers.Serializer):
    currency = serializers.CharField()
    rate = serializers.DecimalField(max_digits=18, decimal_places=6, help_text="Units of the currency per 1 EUR.")
    date = serializers.DateField(help_text="The rate's own date: the asked date or up to 7 days before.")
    source = serializers.CharField()


class RatesOutputSerializer(serializers.Serializer):
    date = serializers.DateField()
    base = serializers.CharField(help_text="Always EUR: ECB reference rates are per euro.")
    rates = RateOutputSerializer(many=True)


class UnconvertedSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="In that currency.")
