"""/api/v1/portfolio/holdings (CRUD + valuation) and /api/v1/portfolio/summary.

Views parse input, call one service or selector of ledger.portfolio and
return its dicts; the Output serializers below document those dicts for
OpenAPI, field for field."""

from decimal import Decimal

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import UUID_PATTERN
from config.openapi import ConflictErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from ledger import portfolio
from ledger.filters import PortfolioHoldingFilterSet
from ledger.models import PortfolioHolding

AssetType = PortfolioHolding.AssetType


def Money(**kwargs):  # noqa: N802 - reads like a field class
    return serializers.DecimalField(max_digits=12, decimal_places=2, **kwargs)


def Units(**kwargs):  # noqa: N802
    return serializers.DecimalField(max_digits=20, decimal_places=8, **kwargs)


def Percent(**kwargs):  # noqa: N802
    return serializers.DecimalField(max_digits=20, decimal_places=2, **kwargs)


class HoldingCreateInputSerializer(serializers.Serializer):
    asset_type = serializers.ChoiceField(choices=AssetType.choices)
    identifier = serializers.CharField(
        max_length=64,
        help_text="Normalised per type: ticker (stock, etf), symbol (crypto), ISIN or CUSIP (bond), "
        "ISO 4217 code (cash), free text (other).",
    )
    name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    currency = serializers.CharField(
        max_length=3,
        required=False,
        help_text="ISO 4217. Default: the cash code for cash, else the user's preferred currency (USD).",
    )
    units = Units(min_value=Decimal(0))
    cost_basis = Money(min_value=Decimal(0), help_text="Total cost of the position.")


class HoldingUpdateInputSerializer(serializers.Serializer):
    asset_type = serializers.ChoiceField(choices=AssetType.choices, required=False)
    identifier = serializers.CharField(max_length=64, required=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    currency = serializers.CharField(max_length=3, required=False)
    units = Units(min_value=Decimal(0), required=False)
    cost_basis = Money(min_value=Decimal(0), required=False)


class ValuationInputSerializer(serializers.Serializer):
    price = Units(min_value=Decimal(0), help_text="Price per unit, in the holding's currency.")
    valued_at = serializers.DateTimeField(required=False, help_text="When the price was quoted; default now.")
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


class PortfolioSummarySerializer(serializers.Serializer):
    as_of = serializers.DateTimeField()
    stale_after_hours = serializers.IntegerField()
    holding_count = serializers.IntegerField()
    valued_count = serializers.IntegerField()
    stale_count = serializers.IntegerField()
    currencies = serializers.ListField(child=serializers.CharField())
    totals = SummaryTotalSerializer(many=True, help_text="One row per currency; currencies are never added up.")
    by_asset_type = SummaryAssetTypeSerializer(many=True, help_text="One row per currency and asset type.")
    stale = StaleHoldingSerializer(many=True)


def _validated(serializer_class, request, **kwargs):
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(description="The caller's holdings by asset type and identifier, each flagged is_stale."),
    destroy=extend_schema(responses={204: None}),
)
class PortfolioHoldingViewSet(viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = HoldingOutputSerializer
    filterset_class = PortfolioHoldingFilterSet
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PortfolioHolding.objects.none()
        return portfolio.holding_list(user=self.request.user)

    def _get(self, pk):
        return portfolio.holding_get(user=self.request.user, holding_id=pk)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        now = timezone.now()
        return self.get_paginated_response([portfolio.holding_output(h, now=now) for h in page])

    def retrieve(self, request, pk=None):
        return Response(portfolio.holding_output(self._get(pk)))

    @extend_schema(
        request=HoldingCreateInputSerializer,
        responses={201: HoldingOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="A duplicate (same asset type and normalised identifier) is a 409 with existing_id.",
    )
    def create(self, request):
        holding = portfolio.holding_create(user=request.user, **_validated(HoldingCreateInputSerializer, request))
        return Response(portfolio.holding_output(holding), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=HoldingUpdateInputSerializer,
        responses={200: HoldingOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Changing units re-applies the last price; changing asset type, identifier or currency "
        "clears the valuation.",
    )
    def partial_update(self, request, pk=None):
        holding = self._get(pk)
        data = _validated(HoldingUpdateInputSerializer, request, partial=True)
        return Response(portfolio.holding_output(portfolio.holding_update(holding=holding, **data)))

    def destroy(self, request, pk=None):
        portfolio.holding_delete(holding=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=ValuationInputSerializer,
        responses={200: HoldingOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Set the price per unit: last_valuation = units x price. Sends portfolio_update. A valued_at "
        "older than the stored one is a 409.",
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def valuation(self, request, pk=None):
        holding = self._get(pk)
        data = _validated(ValuationInputSerializer, request)
        holding = portfolio.holding_revalue(holding=holding, **data)
        return Response(portfolio.holding_output(holding))


class PortfolioSummaryView(APIView):
    @extend_schema(
        responses={200: PortfolioSummarySerializer},
        description="Totals per currency and per asset type (cost basis, market value, unrealised gain and "
        "percentage), counts, and the stale holdings (never valued, or valued over 24 hours ago).",
    )
    def get(self, request):
        return Response(portfolio.portfolio_summary(user=request.user))
