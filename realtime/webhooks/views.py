"""/api/v1/webhooks: endpoints, their secret, test pings and the delivery log."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import UUID_PATTERN
from config.openapi import ConflictErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from realtime.models import WebhookDelivery, WebhookEndpoint
from realtime.webhooks import selectors, services
from realtime.webhooks.serializers import (
    DeliveryListInputSerializer,
    DeliveryOutputSerializer,
    EndpointInputSerializer,
    EndpointOutputSerializer,
    EndpointWithSecretOutputSerializer,
    RotateSecretInputSerializer,
)


def _validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(description="The caller's webhook endpoints (secrets are never listed)."),
    retrieve=extend_schema(description="One endpoint, without its secret."),
    destroy=extend_schema(responses={204: None}, description="Deletes the endpoint and its delivery log."),
)
class WebhookEndpointViewSet(viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = EndpointOutputSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WebhookEndpoint.objects.none()
        return selectors.endpoint_list(user=self.request.user)

    def _get(self, pk):
        return selectors.endpoint_get(user=self.request.user, endpoint_id=pk)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EndpointOutputSerializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(EndpointOutputSerializer(self._get(pk)).data)

    @extend_schema(
        request=EndpointInputSerializer,
        responses={201: EndpointWithSecretOutputSerializer},
        description="Creates an endpoint; the answer carries the signing secret, shown this once.",
    )
    def create(self, request):
        endpoint = services.endpoint_create(user=request.user, **_validated(EndpointInputSerializer, request.data))
        return Response(EndpointWithSecretOutputSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=EndpointInputSerializer,
        responses={200: EndpointOutputSerializer},
        description="Changes url, events, description or enabled; enabling resets the failure count.",
    )
    def partial_update(self, request, pk=None):
        endpoint = self._get(pk)
        data = _validated(EndpointInputSerializer, request.data, partial=True)
        return Response(EndpointOutputSerializer(services.endpoint_update(endpoint=endpoint, **data)).data)

    def destroy(self, request, pk=None):
        services.endpoint_delete(endpoint=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=RotateSecretInputSerializer,
        responses={200: EndpointWithSecretOutputSerializer},
        description="A new secret, shown this once; the old one keeps signing for grace_hours.",
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret", pagination_class=None)
    def rotate_secret(self, request, pk=None):
        data = _validated(RotateSecretInputSerializer, request.data)
        endpoint = services.endpoint_rotate_secret(endpoint=self._get(pk), **data)
        return Response(EndpointWithSecretOutputSerializer(endpoint).data)

    @extend_schema(
        request=None,
        responses={200: DeliveryOutputSerializer},
        description="Sends a signed webhook.test event now, once, and answers with the attempt's outcome.",
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def test(self, request, pk=None):
        delivery = services.endpoint_test(endpoint=self._get(pk))
        delivery = selectors.delivery_get(user=request.user, delivery_id=delivery.id)
        return Response(DeliveryOutputSerializer(delivery).data)

    @extend_schema(
        parameters=[DeliveryListInputSerializer],
        responses={200: DeliveryOutputSerializer(many=True)},
        description="The endpoint's deliveries, newest first, each with its attempts.",
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        params = _validated(DeliveryListInputSerializer, request.query_params)
        page = self.paginate_queryset(selectors.delivery_list(endpoint=self._get(pk), **params))
        return self.get_paginated_response(DeliveryOutputSerializer(page, many=True).data)


class WebhookDeliveryViewSet(viewsets.GenericViewSet):
    serializer_class = DeliveryOutputSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return WebhookDelivery.objects.none()

    def retrieve(self, request, pk=None):
        return Response(DeliveryOutputSerializer(selectors.delivery_get(user=request.user, delivery_id=pk)).data)

    @extend_schema(
        request=None,
        responses={202: DeliveryOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Queues the delivery again (same webhook-id); 409 endpoint_disabled when the endpoint is off.",
    )
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        delivery = services.delivery_redeliver(delivery=selectors.delivery_get(user=request.user, delivery_id=pk))
        return Response(DeliveryOutputSerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
