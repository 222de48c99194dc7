"""GET /api/v1/recurrences and PATCH /api/v1/recurrences/{id} (dismiss / undismiss)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.response import Response

from config.api import UUID_PATTERN
from config.pagination import StrictLimitOffsetPagination
from ledger import subscriptions
from ledger.models import Recurrence


class RecurrenceMerchantSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    canonical_name = serializers.CharField()


class RecurrenceOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    merchant = RecurrenceMerchantSerializer(allow_null=True)
    merchant_name = serializers.SerializerMethodField()
    amount_mean = serializers.DecimalField(max_digits=12, decimal_places=2, coerce_to_string=True)
    period_days = serializers.IntegerField()
    last_date = serializers.DateField()
    next_expected_date = serializers.DateField()
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


@extend_schema_view(
    list=extend_schema(
        description="The caller's detected recurring charges, soonest expected first. Dismissed ones only with "
        "?dismissed=true.",
        parameters=[
            OpenApiParameter("dismissed", OpenApiTypes.BOOL, description="Include dismissed recurrences too."),
        ],
    ),
    partial_update=extend_schema(
        description="Dismiss or undismiss a recurrence; detection never undoes a dismissal.",
        request=RecurrenceUpdateInputSerializer,
        responses={200: RecurrenceOutputSerializer},
    ),
)
class RecurrenceViewSet(viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = RecurrenceOutputSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Recurrence.objects.none()
        return subscriptions.recurrence_list(user=self.request.user, include_dismissed=True)

    def list(self, request):
        query = RecurrenceListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = subscriptions.recurrence_list(user=request.user, include_dismissed=query.validated_data["dismissed"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RecurrenceOutputSerializer(page, many=True).data)

    def partial_update(self, request, pk=None):
        recurrence = self.get_queryset().filter(pk=pk).first()
        if recurrence is None:
            raise Http404
        data = RecurrenceUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recurrence = subscriptions.recurrence_set_dismissed(
            recurrence=recurrence, dismissed=data.validated_data["dismissed"]
        )
        return Response(RecurrenceOutputSerializer(recurrence).data)
