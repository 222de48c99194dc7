import redis
from django.conf import settings
from django.shortcuts import render
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import TallyAPIMixin
from config.exceptions import ServiceUnavailable
from config.openapi import ServiceUnavailableErrorResponseSerializer
from realtime import selectors, services
from realtime.serializers import (
    NotificationListInputSerializer,
    NotificationOutputSerializer,
    NotificationReadInputSerializer,
    NotificationReadOutputSerializer,
    TicketOutputSerializer,
)


class RealtimeUnavailable(ServiceUnavailable):
    default_detail = "Real-time service is unavailable; try again shortly."


class NotificationViewSet(TallyAPIMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = NotificationOutputSerializer

    schema_model = selectors.Notification

    def user_queryset(self):
        return selectors.notification_list(
            user=self.request.user, **self.validated_query(NotificationListInputSerializer)
        )

    @extend_schema(parameters=[NotificationListInputSerializer])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=NotificationReadInputSerializer, responses={200: NotificationReadOutputSerializer})
    @action(detail=False, methods=["post"], url_path="read", pagination_class=None)
    def read(self, request):
        data = NotificationReadInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = services.notification_mark_read(user=request.user, **data.validated_data)
        return Response({"updated": updated})


class TicketView(TallyAPIMixin, APIView):
    @extend_schema(
        request=None,
        responses={200: TicketOutputSerializer, 503: ServiceUnavailableErrorResponseSerializer},
        description="A one-time ticket for the WebSocket. 503 with Retry-After while the real-time service is down.",
    )
    def post(self, request):
        try:
            ticket = services.ticket_issue(user_id=request.user.pk, session_id=request.user.current_session_id)
        except redis.RedisError:
            raise RealtimeUnavailable(wait=5)
        return Response({"ticket": ticket, "expires_in": settings.WS_TICKET_SECONDS})


def live(request):
    return render(request, "realtime/live.html")
