"""Issue 14's account rules end to end: off-budget accounts, PATCH accounts/{id},
moving rows between accounts, the export's account column, another user's
account anywhere."""

import csv
import datetime
import io
import uuid
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import Account, Transaction
from ledger.transactions.selectors import category_spent
from merchants.categories import Category
from realtime.models import Notification
from tests.conftest import login

pytestmark = pytest.mark.django_db
NOON = datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC)
TODAY = NOON.date()


@pytest.fixture
def client(auth_client, user, time_machine):
    """The user's client in mid-March 2026 (budgets are this month's), with a fresh token for that time."""
    time_machine.move_to(NOON, tick=False)
    auth_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(auth_client, user)['access']}")
    return auth_client


def _account(client, **body):
    response = client.post("/api/v1/accounts", {"currency": "USD", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _tx(client, amount, account, day=TODAY, merchant="Shop", **extra):
    body = {"amount": amount, "date": day.isoformat(), "merchant_raw": merchant, "allow_duplicate": True, **extra}
    response = client.post("/api/v1/transactions", {**body, "account": account}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["code"] == code, response.content


def _patch(client, account, **body):
    return client.patch(f"/api/v1/accounts/{account['id']}", body, format="json")


def test_off_budget_account_rows_are_left_out_of_every_budget_figure(client, user):
    checking = _account(client, name="Checking", is_default=True)
    loan = _account(client, name="Car loan", kind="loan", on_budget=False)
    client.post("/api/v1/budgets", {"category": Category.GROCERIES, "amount": "100.00"}, format="json")
    _tx(client, "30.00", checking["id"], category=Category.GROCERIES)
    _tx(client, "90.00", loan["id"], merchant="Grocer", category=Category.GROCERIES)
    _tx(client, "20.00", checking["id"], day=TODAY.replace(month=2), category=Category.GROCERIES)
    _tx(client, "500.00", loan["id"], day=TODAY.replace(month=2), category=Category.GROCERIES)

    budget = client.get("/api/v1/budgets").json()["results"][0]
    status = client.get("/api/v1/budgets/status").json()
    comparison = client.get("/api/v1/budgets/comparison", {"month": "2026-03"}).json()
    suggestion = next(
        s for s in client.get("/api/v1/budgets/suggestions").json()["results"] if s["category"] == Category.GROCERIES
    )

    assert (budget["spent"], budget["status"]) == ("30.00", "healthy")
    assert (status["total_spent"], status["over_budget_count"]) == ("30.00", 0)
    groceries = next(c for c in comparison["categories"] if c["category"] == Category.GROCERIES)
    assert (groceries["current"], groceries["previous"]) == ("30.00", "20.00")
    assert suggestion["transaction_count"] == 2  # the checking rows only
    assert category_spent(user=user, category=Category.GROCERIES, start=TODAY.replace(day=1), end=TODAY) == Decimal(
        "30.00"
    )
    # The rows are still the account's: its balance and the lists show them.
    assert client.get(f"/api/v1/accounts/{loan['id']}").json()["balance"] == "-590.00"
    assert client.get("/api/v1/transactions", {"account": loan["id"]}).json()["count"] == 2


def test_off_budget_split_lines_are_left_out_too(client):
    loan = _account(client, name="Loan", kind="loan", on_budget=False)
    client.post("/api/v1/budgets", {"category": Category.GROCERIES, "amount": "100.00"}, format="json")
    row = _tx(client, "60.00", loan["id"])
    lines = [
        {"amount": "40.00", "category": Category.GROCERIES},
        {"amount": "20.00", "category": Category.SHOPPING},
    ]
    assert client.put(f"/api/v1/transactions/{row['id']}/splits", {"lines": lines}, format="json").status_code == 200

    assert client.get("/api/v1/budgets").json()["results"][0]["spent"] == "0.00"


def test_switching_on_budget_moves_the_figures_and_sends_the_alert(client, user, django_capture_on_commit_callbacks):
    card = _account(client, name="Visa", kind="credit_card", on_budget=False)
    client.post("/api/v1/budgets", {"category": Category.GROCERIES, "amount": "100.00"}, format="json")
    _tx(client, "85.00", card["id"], category=Category.GROCERIES)
    assert client.get("/api/v1/budgets/status").json()["total_spent"] == "0.00"  # cached from here on

    with django_capture_on_commit_callbacks(execute=True):
        response = _patch(client, card, on_budget=True)

    assert response.status_code == 200 and response.json()["on_budget"] is True
    assert client.get("/api/v1/budgets/status").json()["total_spent"] == "85.00"
    alert = Notification.objects.get(user=user, type="budget_alert")
    assert alert.data["level"] == "warning" and alert.data["spent"] == "85.00"


def test_patch_edits_name_flags_and_switches_the_default(client, user):
    main = _account(client, name="Main", is_default=True)
    savings = _account(client, name="Savings", kind="savings")
    euro = _account(client, name="Euro", currency="EUR", is_default=True)

    renamed = _patch(client, savings, name="Rainy day", include_in_net_worth=False, on_budget=False)
    assert renamed.status_code == 200, renamed.content
    assert (renamed.json()["name"], renamed.json()["include_in_net_worth"], renamed.json()["on_budget"]) == (
        "Rainy day",
        False,
        False,
    )
    _error(_patch(client, savings, name="MAIN"), 409, "name_taken")
    _error(_patch(client, savings, name="  "), 400, "blank")

    assert _patch(client, savings, is_default=True).json()["is_default"] is True
    defaults = Account.objects.filter(user=user, is_default=True)
    assert {(a.name, a.currency) for a in defaults} == {("Rainy day", "USD"), ("Euro", "EUR")}
    assert client.get(f"/api/v1/accounts/{main['id']}").json()["is_default"] is False
    # The one default of a currency cannot just be dropped: another account takes it instead.
    _error(_patch(client, euro, is_default=False), 409, "default_required")
    assert Account.objects.get(pk=euro["id"]).is_default


def test_patch_currency_only_while_the_account_is_empty(client):
    empty = _account(client, name="Travel")
    used = _account(client, name="Daily")
    _tx(client, "5.00", used["id"])

    assert _patch(client, empty, currency="gbp").json()["currency"] == "GBP"
    _error(_patch(client, used, currency="EUR"), 409, "currency_locked")
    _error(_patch(client, empty, currency="XYZ"), 400, "invalid_currency")
    assert _patch(client, used, currency="usd").status_code == 200  # the same currency is no change


def test_closing_through_patch_follows_the_closing_rules(client, user):
    main = _account(client, name="Main", is_default=True)
    spare = _account(client, name="Spare")
    _tx(client, "25.00", main["id"])

    _error(_patch(client, main, closed=True), 409, "non_zero_balance")
    assert Account.objects.get(pk=main["id"]).closed_at is None
    _error(_patch(client, spare, closed=True, is_default=True), 409, "account_closed")
    closed = _patch(client, main, closed=True, force=True)

    assert closed.status_code == 200 and closed.json()["closed"] is True and closed.json()["is_default"] is False
    assert Account.objects.get(pk=spare["id"]).is_default  # the default passed on, still one per currency
    into_closed = {"amount": "1", "date": "2026-03-01", "merchant_raw": "X", "account": main["id"]}
    _error(client.post("/api/v1/transactions", into_closed, format="json"), 409, "account_closed")
    no_account = client.post("/api/v1/transactions", {"amount": "1", "date": "2026-03-01", "merchant_raw": "X"})
    assert no_account.json()["account"] == spare["id"]
    reopened = _patch(client, main, closed=False)
    assert reopened.json()["closed"] is False
    assert _tx(client, "1.00", main["id"])["account"] == main["id"]


def test_deleting_the_empty_default_passes_the_default_on(client, user):
    first = _account(client, name="First", is_default=True)
    second = _account(client, name="Second")

    assert client.delete(f"/api/v1/accounts/{first['id']}").status_code == 204

    assert Account.objects.get(pk=second["id"]).is_default


def test_bulk_move_obeys_the_account_rules(client, other_client):
    checking = _account(client, name="Checking")
    card = _account(client, name="Visa", kind="credit_card")
    euro = _account(client, name="Euro", currency="EUR")
    closed = _account(client, name="Old")
    theirs = _account(other_client, name="Theirs")
    row = _tx(client, "12.00", checking["id"])
    assert _patch(client, closed, closed=True).status_code == 200
    url = "/api/v1/transactions/bulk"

    def move(to, ids=(row["id"],)):
        return client.post(url, {"ids": list(ids), "set": {"account": to}}, format="json")

    _error(move(closed["id"]), 409, "account_closed")
    _error(move(euro["id"]), 400, "currency_mismatch")
    assert move(theirs["id"]).status_code == 404
    assert move(card["id"]).json()["changed"]["account"] == 1
    client.post(f"/api/v1/accounts/{card['id']}/reconcile", {"date": "2026-03-31", "balance": "-12.00"})
    _error(move(checking["id"]), 409, "reconciled")
    assert Transaction.objects.get(pk=row["id"]).account_id == uuid.UUID(card["id"])

    transfer = client.post(
        "/api/v1/transfers",
        {"from_account": checking["id"], "to_account": card["id"], "amount": "10", "date": "2026-04-02"},
        format="json",
    ).json()
    in_leg = transfer["in_leg"]["id"]
    _error(move(checking["id"], ids=[in_leg]), 400, "same_account")  # both legs in one account
    savings = _account(client, name="Savings", kind="savings")
    assert move(savings["id"], ids=[in_leg]).json()["changed"]["account"] == 1  # a third account is fine


def test_csv_export_names_the_account_and_reads_back_through_the_tally_profile(client, other_client, other_user):
    checking = _account(client, name="Checking")
    card = _account(client, name="=Visa")
    _tx(client, "12.50", checking["id"], merchant="Grocer")
    _tx(client, "7.00", card["id"], merchant="Cafe")

    exported = b"".join(client.get("/api/v1/transactions/export", {"format": "csv"}).streaming_content)
    rows = list(csv.DictReader(io.StringIO(exported.decode())))
    target = _account(other_client, name="Imported")
    preview = other_client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("t.csv", exported), "account": target["id"]}, format="multipart"
    )
    committed = other_client.post(f"/api/v1/imports/{preview.json()['id']}/commit", {}, format="json")

    assert {row["merchant"]: row["account"] for row in rows} == {"Grocer": "Checking", "Cafe": "'=Visa"}
    assert preview.status_code == 201 and preview.json()["profile"]["key"] == "tally", preview.content
    assert committed.status_code == 200, committed.content
    stored = Transaction.objects.filter(user=other_user).order_by("amount")
    assert [(t.merchant_raw, t.amount, t.account_id) for t in stored] == [
        ("Cafe", Decimal("7.00"), uuid.UUID(target["id"])),
        ("Grocer", Decimal("12.50"), uuid.UUID(target["id"])),
    ]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("patch", "/api/v1/accounts/{theirs}", {"name": "Mine now"}),
        ("post", "/api/v1/accounts/{theirs}/reconcile", {"date": "2026-03-01", "balance": "0"}),
        ("post", "/api/v1/accounts/{theirs}/reconcile/undo", {}),
        ("get", "/api/v1/accounts/{theirs}/balances", {}),
        ("post", "/api/v1/transactions", {"amount": "1", "date": "2026-03-01", "merchant_raw": "X",
                                          "account": "{theirs}"}),
        ("get", "/api/v1/transactions/export?account={theirs}", {}),
        ("post", "/api/v1/transactions/bulk", {"ids": ["{mine_row}"], "set": {"account": "{theirs}"}}),
        ("post", "/api/v1/transfers", {"from_account": "{mine}", "to_account": "{theirs}", "amount": "5",
                                       "date": "2026-03-01"}),
        ("post", "/api/v1/transfers/match", {"out_id": "{mine_row}", "in_id": "{their_row}"}),
    ],
)  # fmt: skip
def test_another_users_account_anywhere_is_a_404(client, other_client, method, path, body):
    mine = _account(client, name="Mine")
    theirs = _account(other_client, name="Theirs")
    names = {
        "mine": mine["id"],
        "theirs": theirs["id"],
        "mine_row": _tx(client, "5.00", mine["id"])["id"],
        "their_row": _tx(other_client, "-5.00", theirs["id"])["id"],
    }

    def fill(value):
        if isinstance(value, dict):
            return {key: fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [fill(item) for item in value]
        return value.format(**names)

    response = getattr(client, method)(fill(path), fill(body), format="json")

    assert response.status_code == 404, response.content
    assert Account.objects.get(pk=theirs["id"]).name == "Theirs"
    assert Transaction.objects.filter(account_id=theirs["id"]).count() == 1


def test_import_into_another_users_account_is_a_404(client, other_client):
    theirs = _account(other_client, name="Theirs")
    content = b"date,amount,merchant\n2026-03-01,5.00,Shop\n"

    new = client.post("/api/v1/imports", {"file": SimpleUploadedFile("t.csv", content), "account": theirs["id"]},
                      format="multipart")  # fmt: skip
    old = client.post("/api/v1/transactions/import", {"file": SimpleUploadedFile("t.csv", content),
                                                      "account": theirs["id"]}, format="multipart")  # fmt: skip

    assert (new.status_code, old.status_code) == (404, 404), (new.content, old.content)
    assert not Transaction.objects.filter(account_id=theirs["id"]).exists()
