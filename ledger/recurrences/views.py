"""GET /api/v1/recurrences and PATCH /api/v1/recurrences/{id} (dismiss / undismiss)."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.response import Response

from config.api import UUID_PATTERN, TallyAPIMixin
from config.pagination import StrictLimitOffsetPagination
from ledger.models import Recurrence
from ledger.recurrences import services as subscriptions
from ledger.recurrences.serializers import (
    RecurrenceListQuerySerializer,
    RecurrenceOutputSerializer,
    RecurrenceUpdateInputSerializer,
)


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
class RecurrenceViewSet(TallyAPIMixin, viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = RecurrenceOutputSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "patch", "head", "options"]

    schema_model = Recurrence

    def user_queryset(self):
        return subscriptions.recurrence_list(user=self.request.user, include_dismissed=True)

    def list(self, request):
        query = self.validated_query(RecurrenceListQuerySerializer)
        rows = subscriptions.recurrence_list(user=request.user, include_dismissed=query["dismissed"])
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
