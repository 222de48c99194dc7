"""Every webhook read. Another user's endpoint or delivery is a 404."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from rest_framework.exceptions import NotFound

from realtime.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user).order_by("created_at", "id")


def endpoint_get(*, user, endpoint_id) -> WebhookEndpoint:
    try:
        return WebhookEndpoint.objects.get(user=user, pk=endpoint_id)
    except (WebhookEndpoint.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Webhook endpoint not found.")


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[WebhookDelivery]:
    rows = WebhookDelivery.objects.filter(endpoint=endpoint)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "id").prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number", "id"))
    )


def delivery_get(*, user, delivery_id) -> WebhookDelivery:
    try:
        return WebhookDelivery.objects.select_related("endpoint").get(endpoint__user=user, pk=delivery_id)
    except (WebhookDelivery.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Webhook delivery not found.")
