"""Budgets alerts through the real ledger API and the real realtime delivery
(Notification rows, then the /ws/ socket on the Redis channel layer)."""

import datetime
from decimal import Decimal

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from ledger.transactions import services as ledger_services
from merchants.categories import Category
from realtime.models import Notification
from tests.accounts.factories import UserFactory
from tests.budgets.factories import BudgetFactory
from tests.realtime.conftest import access_token_for, connected, receive, receive_type

TODAY = datetime.date.today()
PERIOD = {"start_date": TODAY.replace(day=1), "end_date": TODAY.replace(day=1) + datetime.timedelta(days=40)}


def budget_alerts(user):
    return list(
        Notification.objects.filter(user=user, type="budget_alert").order_by("id").values_list("data", flat=True)
    )


@pytest.fixture
def groceries(user):
    return BudgetFactory(user=user, category=Category.GROCERIES, amount=Decimal("200.00"), **PERIOD)


@pytest.fixture
def post_transaction(auth_client, django_capture_on_commit_callbacks):
    def post(amount, merchant="Corner Grocer", category="Groceries"):
        with django_capture_on_commit_callbacks(execute=True):
            response = auth_client.post(
                "/api/v1/transactions",
                {"amount": amount, "date": TODAY.isoformat(), "merchant_raw": merchant, "category": category},
                format="json",
            )
        assert response.status_code == 201, response.content
        return response.json()

    return post


@pytest.mark.django_db
def test_api_create_over_eighty_percent_persists_one_warning(user, groceries, post_transaction):
    post_transaction("100.00", merchant="Market A")
    post_transaction("70.00", merchant="Market B")  # 85 %
    post_transaction("1.00", merchant="Market C")  # still warning: no repeat

    assert budget_alerts(user) == [
        {
            "category": "Groceries",
            "budget": "200.00",
            "spent": "170.00",
            "percentage": 85.0,
            "remaining": "30.00",
            "level": "warning",
        }
    ]


@pytest.mark.django_db
def test_api_edit_delete_and_restore_drive_alerts(
    user, groceries, auth_client, post_transaction, django_capture_on_commit_callbacks
):
    post_transaction("150.00", merchant="Market A")
    row = post_transaction("10.00", merchant="Market B")  # 80 %: warning

    with django_capture_on_commit_callbacks(execute=True):
        auth_client.patch(f"/api/v1/transactions/{row['id']}", {"amount": "35.00"}, format="json")  # 92.5 %
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"/api/v1/transactions/{row['id']}").status_code == 204  # 75 %: no alert
    assert [a["level"] for a in budget_alerts(user)] == ["warning", "critical"]

    with django_capture_on_commit_callbacks(execute=True):
        auth_client.post(f"/api/v1/transactions/{row['id']}/restore", {}, format="json")  # 92.5 % again

    # The repeat of "critical" within the hour is held back.
    assert [a["level"] for a in budget_alerts(user)] == ["warning", "critical"]


@pytest.mark.django_db
def test_api_import_jumping_to_120_percent_sends_severe_once(
    user, groceries, auth_client, post_transaction, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    post_transaction("100.00")  # 50 %
    day = TODAY.isoformat()
    csv = "date,amount,merchant,category\n" + "".join(
        f"{day},35.00,Bulk Store {n},Groceries\n" for n in range(4)
    )  # +140 -> 120 %

    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.post(
            "/api/v1/transactions/import",
            {"file": SimpleUploadedFile("march.csv", csv.encode(), content_type="text/csv")},
            format="multipart",
        )

    assert response.status_code == 200, response.content
    assert [(a["level"], a["spent"], a["percentage"]) for a in budget_alerts(user)] == [("severe", "240.00", 120.0)]


@pytest.mark.django_db(transaction=True)
async def test_alert_reaches_a_live_websocket_with_the_exact_payload():
    user = await database_sync_to_async(UserFactory)()
    await database_sync_to_async(BudgetFactory)(
        user=user, category=Category.GROCERIES, amount=Decimal("200.00"), **PERIOD
    )

    @database_sync_to_async
    def create(amount, merchant):
        with transaction.atomic():
            ledger_services.transaction_create(
                user=user, amount=Decimal(amount), date=TODAY, merchant_raw=merchant, category=Category.GROCERIES
            )

    token = await database_sync_to_async(access_token_for)(user)
    async with connected(token) as socket:
        await create("150.00", "Market A")  # 75 %: nothing yet
        await receive_type(socket, "transaction_update")
        await create("15.00", "Market B")  # 82.5 %
        messages = [await receive(socket), await receive(socket)]

    assert sorted(m["type"] for m in messages) == ["budget_alert", "transaction_update"]
    [alert] = [m for m in messages if m["type"] == "budget_alert"]

    assert isinstance(alert["id"], int) and alert["timestamp"]
    assert alert["data"] == {
        "category": "Groceries",
        "budget": "200.00",
        "spent": "165.00",
        "percentage": 82.5,
        "remaining": "35.00",
        "level": "warning",
    }
