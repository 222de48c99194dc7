import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from realtime.models import Notification
from realtime.services import broadcast, notify

pytestmark = pytest.mark.django_db


def test_notifications_lists_own_events_oldest_first(user, other_user, auth_client):
    first = notify(user.pk, "budget_alert", {"level": "warning"})
    notify(other_user.pk, "budget_alert", {"level": "severe"})
    broadcast("broadcast", {"text": "everyone"})
    second = notify(user.pk, "anomaly_alert", {"score": 0.9})

    response = auth_client.get("/api/v1/notifications")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [first.id, second.id]
    assert body["results"][0] == {
        "id": first.id,
        "type": "budget_alert",
        "data": {"level": "warning"},
        "created_at": body["results"][0]["created_at"],
        "read_at": None,
    }


def test_notifications_after_id_and_unread_filters(user, auth_client):
    rows = [notify(user.pk, "transaction_update", {"n": n}) for n in range(4)]
    Notification.objects.filter(id=rows[3].id).update(read_at=rows[3].created_at)

    after = auth_client.get(f"/api/v1/notifications?after_id={rows[1].id}").json()
    unread = auth_client.get(f"/api/v1/notifications?after_id={rows[0].id}&unread=true").json()
    read = auth_client.get("/api/v1/notifications?unread=false").json()

    assert [r["id"] for r in after["results"]] == [rows[2].id, rows[3].id]
    assert [r["id"] for r in unread["results"]] == [rows[1].id, rows[2].id]
    assert [r["id"] for r in read["results"]] == [rows[3].id]


@pytest.mark.parametrize("query", ["after_id=abc", "after_id=-1", "unread=maybe", "limit=500"])
def test_bad_notification_filters_are_400(auth_client, query):
    response = auth_client.get(f"/api/v1/notifications?{query}")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_notification_list_query_count_does_not_grow(user, auth_client):
    for n in range(30):
        notify(user.pk, "transaction_update", {"n": n})
    with CaptureQueriesContext(connection) as queries:
        assert auth_client.get("/api/v1/notifications").status_code == 200
    assert len(queries) <= 4  # session, count, page


def test_mark_read_by_ids_touches_only_own_rows(user, other_user, auth_client):
    mine = notify(user.pk, "budget_alert", {})
    theirs = notify(other_user.pk, "budget_alert", {})

    response = auth_client.post("/api/v1/notifications/read", {"ids": [mine.id, theirs.id]}, format="json")

    assert response.status_code == 200 and response.json() == {"updated": 1}
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.read_at is not None and theirs.read_at is None


def test_mark_read_up_to_id(user, auth_client):
    rows = [notify(user.pk, "budget_alert", {}) for _ in range(3)]
    response = auth_client.post("/api/v1/notifications/read", {"up_to_id": rows[1].id}, format="json")
    assert response.json() == {"updated": 2}
    assert list(Notification.objects.filter(read_at__isnull=True).values_list("id", flat=True)) == [rows[2].id]


@pytest.mark.parametrize("body", [{}, {"ids": [1], "up_to_id": 1}, {"ids": "1"}, {"up_to_id": 0}])
def test_mark_read_needs_exactly_one_selector(auth_client, body):
    response = auth_client.post("/api/v1/notifications/read", body, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_notifications_need_authentication(api_client):
    assert api_client.get("/api/v1/notifications").status_code == 401
    assert api_client.post("/api/v1/realtime/ticket").status_code == 401


def test_ticket_is_issued_for_the_caller(auth_client):
    response = auth_client.post("/api/v1/realtime/ticket")
    assert response.status_code == 200
    assert response.json()["expires_in"] == 30
    assert len(response.json()["ticket"]) >= 32
