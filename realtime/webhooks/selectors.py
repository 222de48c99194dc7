"""Every webhook read. Another user's endpoint or delivery is a 404."""

from django.db.models import Prefetch, QuerySet

from config.selectors import get_or_not_found
from realtime.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint_list(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user).order_by("created_at", "id")


def endpoint_get(*, user, endpoint_id) -> WebhookEndpoint:
    return get_or_not_found(WebhookEndpoint.objects.filter(user=user), "Webhook endpoint not found.", pk=endpoint_id)


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[WebhookDelivery]:
    rows = WebhookDelivery.objects.filter(endpoint=endpoint)
    if status:
        rows = rows.filter(status=status)
    return rows.order_by("-created_at", "id").prefetch_related(
        Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number", "id"))
    )


def delivery_get(*, user, delivery_id) -> WebhookDelivery:
    return get_or_not_found(
        WebhookDelivery.objects.select_related("endpoint").filter(endpoint__user=user),
        "Webhook delivery not found.",
        pk=delivery_id,
    )
