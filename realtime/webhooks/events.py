"""Which webhook events a persisted Notification becomes, and the payload each carries.

Endpoints subscribe to the WebSocket event types themselves and to four
integration events derived from them: transaction.created / .updated /
.deleted (from transaction_update's action) and import.committed."""

from django.dispatch import Signal

# The WebSocket event types a webhook can carry (broadcasts have no user and never do).
SOCKET_EVENT_TYPES = (
    "transaction_update",
    "budget_alert",
    "anomaly_alert",
    "subscription_reminder",
    "portfolio_update",
    "import_progress",
    "import_committed",
    "integrity_alert",
    "webhook_disabled",
    "monthly_report",
)
DERIVED_EVENT_TYPES = ("transaction.created", "transaction.updated", "transaction.deleted", "import.committed")
WEBHOOK_EVENT_TYPES = SOCKET_EVENT_TYPES + DERIVED_EVENT_TYPES
TEST_EVENT_TYPE = "webhook.test"

_TRANSACTION_ACTIONS = {
    "created": "transaction.created",
    "imported": "transaction.created",
    "updated": "transaction.updated",
    "restored": "transaction.updated",
    "deleted": "transaction.deleted",
}
_COMMITTED_IMPORT_STATUSES = {"completed", "committed"}

# Sent after every delivery attempt (sender: WebhookDelivery) with endpoint_id,
# event_type, succeeded, response_code, duration_ms: a hook for metrics.
webhook_attempted = Signal()


def webhook_events_for(notification_type: str, data: dict) -> dict[str, dict]:
    """{webhook event type: its `data`} for one notification."""
    if notification_type not in SOCKET_EVENT_TYPES:
        return {}
    events = {notification_type: data}
    if notification_type == "transaction_update":
        derived = _TRANSACTION_ACTIONS.get(data.get("action"))
        if derived:
            events[derived] = data.get("transaction") or {}
    elif notification_type == "import_committed" or (
        notification_type == "import_progress" and data.get("status") in _COMMITTED_IMPORT_STATUSES
    ):
        events["import.committed"] = data
    return events


def webhook_payload(*, event_type: str, event_id, timestamp: str, data: dict) -> dict:
    """The body of a delivery (the Standard Webhooks shape: type, timestamp, data)."""
    return {"type": event_type, "timestamp": timestamp, "event_id": event_id, "data": data}
