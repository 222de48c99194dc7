import pytest
import redis
from channels.layers import get_channel_layer
from django.conf import settings

from realtime.models import Notification
from realtime.services import user_group


class SentAlerts:
    """The budget alerts sent so far, read back from where they went: the
    stored budget_alert Notification rows (oldest first, as
    ``{"user_id": ..., **data}``), and, through ``published()``, the messages
    the real channel layer carried to the user's group."""

    def __init__(self, subscriber):
        self.subscriber, self.after_id = subscriber, 0

    def clear(self) -> None:
        """Forget what was sent so far (stored and published)."""
        self.after_id = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
        self.published()

    def _stored(self) -> list[dict]:
        rows = Notification.objects.filter(type="budget_alert", id__gt=self.after_id).order_by("id")
        return [{"user_id": row.user_id, **row.data} for row in rows]

    def __eq__(self, other):
        return self._stored() == list(other)

    def __iter__(self):
        return iter(self._stored())

    def __len__(self):
        return len(self._stored())

    def __getitem__(self, index):
        return self._stored()[index]

    def __repr__(self):
        return repr(self._stored())

    def published(self) -> list[dict]:
        """The budget_alert events published since the last call, as the socket receives them."""
        layer, events = get_channel_layer(), []
        while (message := self.subscriber.get_message(timeout=0.05)) is not None:
            if message["type"] == "message":
                event = layer.deserialize(message["data"])["message"]
                if event["type"] == "budget_alert":
                    events.append(event)
        return events


@pytest.fixture
def sent_alerts(user):
    """Budget alerts as stored and as published for the test's ``user``
    (nothing is faked: notify() writes the row and publishes after commit)."""
    client = redis.Redis.from_url(settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0])
    subscriber = client.pubsub()
    prefix = settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "asgi")
    subscriber.subscribe(f"{prefix}__group__{user_group(user.pk)}")
    yield SentAlerts(subscriber)
    subscriber.close()
    client.close()
