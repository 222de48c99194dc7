import datetime
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.models import Account, Transaction, TransferSuggestion
from tests.ledger.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2026, 3, 10)


def _account(client, **body):
    response = client.post("/api/v1/accounts", {"currency": "USD", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _tx(client, amount, account=None, day=DAY, merchant="Shop", **extra):
    body = {"amount": amount, "date": day.isoformat(), "merchant_raw": merchant, "allow_duplicate": True, **extra}
    if account:
        body["account"] = account
    return client.post("/api/v1/transactions", body, format="json")


def _error(response, status, code):
    assert response.status_code == status, response.content
    assert response.json()["errors"][0]["code"] == code, response.content


def test_card_payment_flow_end_to_end(auth_client, user):
    checking = _account(auth_client, name="Checking", kind="checking", opening_balance="1000.00")
    card = _account(auth_client, name="Visa", kind="credit_card")
    assert _tx(auth_client, "120.00", card["id"], merchant="Grocer", category="Groceries").status_code == 201
    assert _tx(auth_client, "-120.00", card["id"], merchant="Payment thank you", day=DAY).status_code == 201
    payment = _tx(auth_client, "120.00", checking["id"], merchant="VISA PAYMENT", day=DAY + datetime.timedelta(1))
    assert payment.status_code == 201
    assert payment.json()["kind"] == "transfer" and payment.json()["transfer"]
    transfers = auth_client.get("/api/v1/transfers").json()
    assert transfers["count"] == 1 and transfers["results"][0]["created_by"] == "match"
    accounts = {a["name"]: a["balance"] for a in auth_client.get("/api/v1/accounts").json()["results"]}
    assert accounts == {"Checking": "880.00", "Visa": "0.00"}
    listed = auth_client.get("/api/v1/transactions", {"kind": "standard"}).json()
    assert [row["merchant_raw"] for row in listed["results"]] == ["Grocer"]

    answer = auth_client.post(f"/api/v1/accounts/{card['id']}/reconcile", {"date": "2026-03-31", "balance": "-5.00"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["difference"] == "-5.00"
    assert auth_client.get(f"/api/v1/accounts/{card['id']}").json()["balance"] == "-5.00"


def test_budget_spending_ignores_a_card_payment_transfer(auth_client, user, time_machine):
    from tests.conftest import login

    time_machine.move_to(datetime.datetime(2026, 3, 15, 12, tzinfo=datetime.UTC), tick=False)
    auth_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(auth_client, user)['access']}")
    checking = _account(auth_client, name="Checking")
    card = _account(auth_client, name="Visa", kind="credit_card")
    auth_client.post("/api/v1/budgets", {"category": "Bills & Utilities", "amount": "100.00"}, format="json")
    _tx(auth_client, "300.00", checking["id"], merchant="Card payment", category="Bills & Utilities", day=DAY)
    _tx(auth_client, "-300.00", card["id"], merchant="Payment received", category="Bills & Utilities", day=DAY)
    status = auth_client.get("/api/v1/budgets").json()["results"][0]
    assert status["spent"] == "0.00", status


def test_transfer_api_and_bad_input(auth_client, other_client):
    checking = _account(auth_client, name="Checking")
    savings = _account(auth_client, name="Savings", kind="savings")
    foreign = _account(other_client, name="Theirs")
    url = "/api/v1/transfers"
    ok = auth_client.post(
        url, {"from_account": checking["id"], "to_account": savings["id"], "amount": "50", "date": "2026-03-01"}
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["out_leg"]["amount"] == "50.00" and ok.json()["in_leg"]["amount"] == "-50.00"
    base = {"from_account": checking["id"], "to_account": savings["id"], "amount": "50", "date": "2026-03-01"}
    _error(auth_client.post(url, {**base, "to_account": checking["id"]}), 400, "same_account")
    _error(auth_client.post(url, {**base, "amount": "0"}), 400, "amount_not_positive")
    assert auth_client.post(url, {**base, "to_account": foreign["id"]}).status_code == 404
    assert auth_client.post(url, {**base, "from_account": str(uuid.uuid4())}).status_code == 404
    _error(auth_client.post(url, {**base, "date": "not-a-date"}), 400, "invalid")
    transfer_id = ok.json()["id"]
    assert other_client.delete(f"{url}/{transfer_id}").status_code == 404
    assert auth_client.delete(f"{url}/{transfer_id}").status_code == 204
    assert auth_client.get(url).json()["count"] == 0
    assert Transaction.objects.filter(kind="standard").count() == 2


def test_suggestions_match_and_reject(auth_client, user, other_client):
    checking = _account(auth_client, name="Checking")
    card = _account(auth_client, name="Visa", kind="credit_card")
    savings = _account(auth_client, name="Savings", kind="savings")
    card_in = _tx(auth_client, "-25.00", card["id"], merchant="Payment").json()
    _tx(auth_client, "-25.00", savings["id"], merchant="Deposit")
    out = _tx(auth_client, "25.00", checking["id"], merchant="Move").json()
    suggestions = auth_client.get("/api/v1/transfers/suggestions").json()
    assert suggestions["count"] == 2
    to_reject = next(s for s in suggestions["results"] if s["in_leg"]["account"] == savings["id"])
    assert other_client.post(f"/api/v1/transfers/suggestions/{to_reject['id']}/reject").status_code == 404
    rejected = auth_client.post(f"/api/v1/transfers/suggestions/{to_reject['id']}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    matched = auth_client.post("/api/v1/transfers/match", {"out_id": out["id"], "in_id": card_in["id"]})
    assert matched.status_code == 201, matched.content
    assert auth_client.get("/api/v1/transfers/suggestions").json()["count"] == 0
    _error(
        auth_client.post("/api/v1/transfers/match", {"out_id": out["id"], "in_id": card_in["id"]}),
        409,
        "already_linked",
    )
    assert TransferSuggestion.objects.filter(status="rejected").count() == 1


@pytest.mark.parametrize(
    "method, body, attr, code",
    [
        ("post", {"name": "A", "currency": "XYZ"}, "currency", "invalid_currency"),
        ("post", {"name": "A", "currency": "EUR", "iban": "DE00123"}, "iban", "invalid_iban"),
        ("post", {"name": "A", "currency": "EUR", "iban": "0"}, "iban", "invalid_iban"),
        ("post", {"name": "   ", "currency": "EUR"}, "name", "blank"),
        ("patch", {"currency": "XYZ"}, "currency", "invalid_currency"),
        ("patch", {"iban": "DE00123"}, "iban", "invalid_iban"),
        ("patch", {"name": "   "}, "name", "blank"),
    ],
)
def test_account_field_errors_are_validation_errors_naming_the_field(auth_client, method, body, attr, code):
    url = "/api/v1/accounts"
    if method == "patch":
        url = f"{url}/{_account(auth_client, name='Wallet')['id']}"

    response = getattr(auth_client, method)(url, body, format="json")

    assert response.status_code == 400, response.content
    assert response.json() == {
        "type": "validation_error",
        "errors": [{"code": code, "detail": response.json()["errors"][0]["detail"], "attr": attr}],
    }


def test_account_api_bad_input(auth_client, other_client):
    url = "/api/v1/accounts"
    _error(auth_client.post(url, {"name": "A", "currency": "XYZ"}), 400, "invalid_currency")
    _error(auth_client.post(url, {"name": "A", "currency": "usdx"}), 400, "invalid")
    _error(auth_client.post(url, {"name": "A", "currency": "EUR", "iban": "DE00123"}), 400, "invalid_iban")
    _error(auth_client.post(url, {"name": "A", "currency": "EUR", "kind": "piggy"}), 400, "invalid_choice")
    _error(auth_client.post(url, {"name": "A", "currency": "EUR", "number_mask": "12345"}), 400, "invalid")
    first = _account(auth_client, name="Wallet", kind="cash")
    conflict = auth_client.post(url, {"name": "wallet", "currency": "USD"})
    _error(conflict, 409, "name_taken")
    assert conflict.json()["existing_id"] == first["id"]
    theirs = _account(other_client, name="Theirs")
    for method, path in (("get", ""), ("patch", ""), ("delete", ""), ("get", "/balances"), ("post", "/reconcile")):
        response = getattr(auth_client, method)(f"{url}/{theirs['id']}{path}", {}, format="json")
        assert response.status_code == 404, (method, path, response.content)
    assert auth_client.get("/api/v1/transactions", {"account": theirs["id"]}).status_code == 404
    assert _tx(auth_client, "5.00", theirs["id"]).status_code == 404


def test_transaction_create_rules(auth_client, user):
    euro = _account(auth_client, name="Euro", currency="EUR")
    _error(_tx(auth_client, "5.00", euro["id"], currency="USD"), 400, "currency_mismatch")
    created = _tx(auth_client, "5.00", euro["id"])
    assert created.status_code == 201 and created.json()["currency"] == "EUR"
    no_account = _tx(auth_client, "5.00", currency="GBP").json()
    assert Account.objects.get(pk=no_account["account"]).is_default
    _error(auth_client.delete(f"/api/v1/accounts/{euro['id']}"), 409, "non_zero_balance")
    closed = auth_client.delete(f"/api/v1/accounts/{euro['id']}", QUERY_STRING="force=true")
    assert closed.status_code == 200 and closed.json()["closed"] is True
    _error(_tx(auth_client, "5.00", euro["id"]), 409, "account_closed")
    empty = _account(auth_client, name="Empty")
    assert auth_client.delete(f"/api/v1/accounts/{empty['id']}").status_code == 204


def test_balance_series_is_right_for_backdated_rows_and_deletes(auth_client, user):
    account = _account(auth_client, name="Checking", opening_balance="100.00")
    _tx(auth_client, "10.00", account["id"], day=datetime.date(2026, 1, 15))
    late = _tx(auth_client, "20.00", account["id"], day=datetime.date(2026, 3, 2)).json()
    _tx(auth_client, "5.00", account["id"], day=datetime.date(2025, 12, 1))  # back-dated, before the window
    url = f"/api/v1/accounts/{account['id']}/balances"
    series = auth_client.get(url, {"since": "2026-01-01", "until": "2026-03-31", "interval": "month"}).json()
    assert [(p["period"], p["balance"]) for p in series["results"]] == [
        ("2026-01-01", "85.00"),
        ("2026-02-01", "85.00"),
        ("2026-03-01", "65.00"),
    ]
    auth_client.delete(f"/api/v1/transactions/{late['id']}")
    series = auth_client.get(url, {"since": "2026-01-01", "until": "2026-03-31"}).json()
    assert series["results"][-1]["balance"] == "85.00"
    weeks = auth_client.get(url, {"since": "2026-03-01", "until": "2026-03-14", "interval": "week"}).json()
    assert [p["period"] for p in weeks["results"]] == ["2026-02-23", "2026-03-02", "2026-03-09"]
    _error(auth_client.get(url, {"interval": "year"}), 400, "invalid_choice")
    _error(auth_client.get(url, {"since": "2026-03-01", "until": "2026-01-01"}), 400, "invalid_range")


def test_reconciled_rows_refuse_edits_and_undo(auth_client, user):
    card = _account(auth_client, name="Visa", kind="credit_card")
    row = _tx(auth_client, "40.00", card["id"]).json()
    answer = auth_client.post(f"/api/v1/accounts/{card['id']}/reconcile", {"date": DAY.isoformat(), "balance": "-40"})
    assert answer.json()["difference"] == "0.00"
    _error(
        auth_client.patch(f"/api/v1/transactions/{row['id']}", {"amount": "41.00"}, format="json"), 409, "reconciled"
    )
    assert auth_client.patch(f"/api/v1/transactions/{row['id']}", {"notes": "ok"}, format="json").status_code == 200
    assert auth_client.post(f"/api/v1/accounts/{card['id']}/reconcile/undo").status_code == 200
    assert auth_client.patch(f"/api/v1/transactions/{row['id']}", {"amount": "41.00"}, format="json").status_code == 200
    _error(auth_client.post(f"/api/v1/accounts/{card['id']}/reconcile/undo"), 409, "not_reconciled")
    _error(auth_client.post(f"/api/v1/accounts/{card['id']}/reconcile", {"date": "x", "balance": "1"}), 400, "invalid")


def test_net_worth_per_currency(auth_client, user):
    checking = _account(auth_client, name="Checking", opening_balance="1000.00")
    card = _account(auth_client, name="Visa", kind="credit_card")
    _account(auth_client, name="Hidden", opening_balance="5000.00", include_in_net_worth=False)
    _tx(auth_client, "200.00", card["id"], day=datetime.date(2026, 2, 10))
    _tx(auth_client, "100.00", checking["id"], day=datetime.date(2026, 3, 10))
    body = auth_client.get("/api/v1/reports/net-worth", {"since": "2026-02-01", "until": "2026-03-31"}).json()
    assert body["results"] == [
        {
            "period": "2026-02-01",
            "currencies": [{"currency": "USD", "assets": "1000.00", "liabilities": "200.00", "net_worth": "800.00"}],
            # All in the base currency already: the same figures, nothing left out.
            "base": {"currency": "USD", "assets": "1000.00", "liabilities": "200.00", "net_worth": "800.00"},
            "unconverted": [],
        },
        {
            "period": "2026-03-01",
            "currencies": [{"currency": "USD", "assets": "900.00", "liabilities": "200.00", "net_worth": "700.00"}],
            "base": {"currency": "USD", "assets": "900.00", "liabilities": "200.00", "net_worth": "700.00"},
            "unconverted": [],
        },
    ]


def test_import_into_an_account_matches_transfers(auth_client, user, other_client):
    checking = _account(auth_client, name="Checking")
    card = _account(auth_client, name="Visa", kind="credit_card")
    _tx(auth_client, "75.00", checking["id"], merchant="Card payment", day=DAY)
    content = (
        b"date,amount,merchant,currency\n2026-03-11,-75.00,Payment received,USD\n"
        b"2026-03-12,12.00,Cafe,USD\n2026-03-12,3.00,Bus,EUR\n"
    )
    upload = SimpleUploadedFile("card.csv", content, "text/csv")
    response = auth_client.post(
        "/api/v1/transactions/import", {"file": upload, "account": card["id"]}, format="multipart"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["imported"], response.json()["transfers_matched"]) == (2, 1)
    assert "EUR" in response.json()["errors"][0]["message"]
    assert Transaction.objects.filter(account_id=card["id"]).count() == 2
    theirs = _account(other_client, name="Theirs")
    upload = SimpleUploadedFile("card.csv", content, "text/csv")
    assert (
        auth_client.post(
            "/api/v1/transactions/import", {"file": upload, "account": theirs["id"]}, format="multipart"
        ).status_code
        == 404
    )


def test_account_list_filters_and_admin(auth_client, user, client):
    from tests.accounts.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    _account(auth_client, name="Checking")
    _account(auth_client, name="Visa", kind="credit_card", currency="EUR")
    assert [a["name"] for a in auth_client.get("/api/v1/accounts", {"kind": "credit_card"}).json()["results"]] == [
        "Visa"
    ]
    assert [a["name"] for a in auth_client.get("/api/v1/accounts", {"currency": "usd"}).json()["results"]] == [
        "Checking"
    ]
    TransactionFactory(user=user)
    page = client.get("/admin/ledger/account/", {"kind__exact": "checking"})
    assert page.status_code == 200 and b"Checking" in page.content


def test_unknown_account_on_create_is_404(auth_client):
    assert _tx(auth_client, "5.00", str(uuid.uuid4())).status_code == 404
    assert AccountFactory  # the factory is importable for other suites
