"""/api/v1/currencies and /api/v1/rates (read-only; rates are edited in admin)."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import TallyAPIMixin
from config.openapi import ClientErrorResponseSerializer
from ledger.currency import selectors, services
from ledger.currency import serializers as s


class CurrencyListView(TallyAPIMixin, APIView):
    @extend_schema(
        responses={200: s.CurrencyOutputSerializer(many=True)},
        description="Every active ISO 4217 code, its name and the dates its ECB rates cover.",
    )
    def get(self, request):
        return Response(s.CurrencyOutputSerializer(selectors.currency_list(), many=True).data)


class RateListView(TallyAPIMixin, APIView):
    @extend_schema(
        parameters=[s.RatesQuerySerializer],
        responses={200: s.RatesOutputSerializer},
        description="The ECB reference rates (per 1 EUR) of `date`, each from that date or the closest earlier "
        "date within 7 days; a currency without one is absent. An unknown ISO code is a 400.",
    )
    def get(self, request):
        query = self.validated_query(s.RatesQuerySerializer)
        on = query.get("date") or timezone.localdate()
        rates = selectors.rates_on(on=on, currency=query.get("currency"))
        return Response(s.RatesOutputSerializer({"date": on, "base": "EUR", "rates": rates}).data)

    @extend_schema(
        request=s.RateInputSerializer,
        responses={201: s.RateOutputSerializer, 403: ClientErrorResponseSerializer},
        description="Staff only: store (or correct) one rate. Zero, negative or above 1,000,000 per euro is a 400; "
        "the transactions it can convert are recomputed.",
    )
    def post(self, request):
        if not request.user.is_staff:
            raise PermissionDenied("Only staff can change exchange rates.")
        data = self.validated(s.RateInputSerializer)
        stored = services.rate_put(currency=data["currency"], date=data["date"], rate=data["rate"])
        return Response(s.RateOutputSerializer(stored).data, status=status.HTTP_201_CREATED)
