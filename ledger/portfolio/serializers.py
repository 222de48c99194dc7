from decimal import Decimal

from config import serializers
from config.fields import AsciiDecimalField, BoundedDateTimeField
from ledger.currency.serializers import UnconvertedSerializer
from ledger.models import PortfolioHolding

AssetType = PortfolioHolding.AssetType


def Money(**kwargs):  # noqa: N802 - reads like a field class
    return AsciiDecimalField(max_digits=12, decimal_places=2, **kwargs)


def Units(**kwargs):  # noqa: N802
    return AsciiDecimalField(max_digits=20, decimal_places=8, **kwargs)


def Percent(**kwargs):  # noqa: N802
    return AsciiDecimalField(max_digits=20, decimal_places=2, **kwargs)


def CurrencyCodeField(**kwargs):  # noqa: N802 - a field factory
    # Three letters, as the schema's pattern says; whether they name a real currency is the service's check.
    return serializers.RegexField(
        r"^[A-Za-z]{3}\Z",
        error_messages={"invalid": "An ISO 4217 currency code: three letters (USD, EUR)."},
        **kwargs,
    )


class HoldingCreateInputSerializer(serializers.Serializer):
    asset_type = serializers.ChoiceField(choices=AssetType.choices)
    identifier = serializers.CharField(
        max_length=64,
        help_text="Normalised per type: ticker (stock, etf), symbol (crypto), ISIN or CUSIP (bond), "
        "ISO 4217 code (cash), free text (other).",
    )
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    currency = CurrencyCodeField(
        required=False,
        help_text="ISO 4217. Default: the cash code for cash, else the user's preferred currency (USD).",
    )
    units = Units(min_value=Decimal(0))
    cost_basis = Money(min_value=Decimal(0), help_text="Total cost of the position.")


class HoldingUpdateInputSerializer(serializers.Serializer):
    asset_type = serializers.ChoiceField(choices=AssetType.choices, required=False)
    identifier = serializers.CharField(max_length=64, required=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    currency = CurrencyCodeField(required=False)
    units = Units(min_value=Decimal(0), required=False)
    cost_basis = Money(min_value=Decimal(0), required=False)


class ValuationInputSerializer(serializers.Serializer):
    price = Units(min_value=Decimal(0), help_text="Price per unit, in the holding's currency.")
    valued_at = BoundedDateTimeField(required=False, help_text="When the price was quoted; default now.")
    source = serializers.CharField(max_length=32, required=False, default="manual")


class HoldingOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    asset_type = serializers.ChoiceField(choices=AssetType.choices)
    identifier = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    units = Units()
    cost_basis = Money()
    last_price = Units(allow_null=True)
    last_valuation = Money(allow_null=True, help_text="units x last_price, to the cent (half up).")
    unrealised_gain = Money(allow_null=True, help_text="last_valuation - cost_basis; null until valued.")
    unrealised_gain_pct = Percent(allow_null=True, help_text="Percent of cost_basis, 2 places; null at zero cost.")
    valued_at = serializers.DateTimeField(allow_null=True)
    price_source = serializers.CharField()
    is_stale = serializers.BooleanField(help_text="Never valued, or valued more than 24 hours ago.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class SummaryFiguresSerializer(serializers.Serializer):
    holding_count = serializers.IntegerField()
    valued_count = serializers.IntegerField()
    stale_count = serializers.IntegerField()
    cost_basis = Money()
    market_value = Money(help_text="Sum of last valuations; a holding never valued counts at its cost.")
    unrealised_gain = Money()
    unrealised_gain_pct = Percent(allow_null=True, help_text="Percent, 2 places; null when the cost basis is zero.")


class SummaryTotalSerializer(SummaryFiguresSerializer):
    currency = serializers.CharField()


class SummaryAssetTypeSerializer(SummaryTotalSerializer):
    asset_type = serializers.ChoiceField(choices=AssetType.choices)


class StaleHoldingSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    asset_type = serializers.ChoiceField(choices=AssetType.choices)
    identifier = serializers.CharField()
    name = serializers.CharField()
    currency = serializers.CharField()
    valued_at = serializers.DateTimeField(allow_null=True)


class SummaryBaseSerializer(serializers.Serializer):
    currency = serializers.CharField(help_text="Your base currency.")
    cost_basis = Money()
    market_value = Money()
    unrealised_gain = Money()
    unrealised_gain_pct = Percent(allow_null=True)


class PortfolioSummarySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    base_currency = serializers.CharField()
    totals_base = SummaryBaseSerializer(
        help_text="Every currency with a rate today (ECB, or up to 7 days before) converted and added."
    )
    unconverted = UnconvertedSerializer(
        many=True, help_text="Currencies left out of totals_base (no rate): count is holdings, amount market value."
    )
    stale_after_hours = serializers.IntegerField()
    holding_count = serializers.IntegerField()
    valued_count = serializers.IntegerField()
    stale_count = serializers.IntegerField()
    currencies = serializers.ListField(child=serializers.CharField())
    totals = SummaryTotalSerializer(many=True, help_text="One row per currency; currencies are never added up.")
    by_asset_type = SummaryAssetTypeSerializer(many=True, help_text="One row per currency and asset type.")
    stale = StaleHoldingSerializer(many=True)
