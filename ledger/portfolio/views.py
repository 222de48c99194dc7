"""/api/v1/portfolio/holdings (CRUD + valuation) and /api/v1/portfolio/summary.

Views parse input, call one service or selector of ledger.portfolio and
return its dicts; the Output serializers below document those dicts for
OpenAPI, field for field."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import UUID_PATTERN, TallyAPIMixin
from config.openapi import ConflictErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from ledger.models import PortfolioHolding
from ledger.portfolio import services as portfolio
from ledger.portfolio.filters import PortfolioHoldingFilterSet
from ledger.portfolio.serializers import (
    HoldingCreateInputSerializer,
    HoldingOutputSerializer,
    HoldingUpdateInputSerializer,
    PortfolioSummarySerializer,
    ValuationInputSerializer,
)


@extend_schema_view(
    list=extend_schema(description="The caller's holdings by asset type and identifier, each flagged is_stale."),
    destroy=extend_schema(responses={204: None}),
)
class PortfolioHoldingViewSet(TallyAPIMixin, viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = HoldingOutputSerializer
    filterset_class = PortfolioHoldingFilterSet
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    schema_model = PortfolioHolding

    def user_queryset(self):
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
        holding = portfolio.holding_create(user=request.user, **self.validated(HoldingCreateInputSerializer))
        return Response(portfolio.holding_output(holding), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=HoldingUpdateInputSerializer,
        responses={200: HoldingOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Changing units re-applies the last price; changing asset type, identifier or currency "
        "clears the valuation.",
    )
    def partial_update(self, request, pk=None):
        holding = self._get(pk)
        data = self.validated(HoldingUpdateInputSerializer, partial=True)
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
        data = self.validated(ValuationInputSerializer)
        holding = portfolio.holding_revalue(holding=holding, **data)
        return Response(portfolio.holding_output(holding))


class PortfolioSummaryView(TallyAPIMixin, APIView):
    @extend_schema(
        responses={200: PortfolioSummarySerializer},
        description="Totals per currency and per asset type (cost basis, market value, unrealised gain and "
        "percentage), counts, and the stale holdings (never valued, or valued over 24 hours ago).",
    )
    def get(self, request):
        return Response(portfolio.portfolio_summary(user=request.user))
