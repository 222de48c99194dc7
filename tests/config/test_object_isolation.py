"""Another user's object is a 404 everywhere an id is taken: in the path, in a
body field, in a filter. One case per (operation, where the id goes): the owner
makes only the objects the case needs, the intruder sends an otherwise valid
request naming them, and then

- the answer is a 404 in the error shape (never 200, 403 or 500), and the
  operation's OpenAPI entry documents that status;
- nothing was written: the owner's object and both users' rows are as they were.
"""

import datetime
import functools
import re
from decimal import Decimal

import pytest
from drf_spectacular.generators import SchemaGenerator

from accounts.models import Session
from budgets.models import Budget
from ledger.models import (
    Account,
    Attachment,
    Import,
    ImportProfile,
    PortfolioHolding,
    Recurrence,
    Rule,
    SplitLine,
    Tag,
    Transaction,
    TransactionChange,
    Transfer,
    TransferSuggestion,
)
from realtime.models import Notification, WebhookDelivery, WebhookEndpoint
from tests.ledger.attachments.files import png
from tests.redis_server import free_port

pytestmark = pytest.mark.django_db

CSV = b"Date,Amount,Payee\n2026-03-01,12.50,Corner Cafe\n2026-03-02,40.00,Grocer\n"
ROWS_OF_USER = {
    Account: "user",
    Transaction: "user",
    Transfer: "user",
    TransferSuggestion: "user",
    Tag: "user",
    Rule: "user",
    Import: "user",
    ImportProfile: "user",
    Budget: "user",
    WebhookEndpoint: "user",
    WebhookDelivery: "endpoint__user",
    Attachment: "user",
    PortfolioHolding: "user",
    Recurrence: "user",
    SplitLine: "transaction__user",
    TransactionChange: "transaction__user",
    Notification: "user",
}


@functools.cache
def openapi_responses() -> dict[tuple[str, str], set[str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path): set(operation["responses"])
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }


class Objects:
    """Objects of one user, made through the API the first time a case asks for them."""

    def __init__(self, client, user):
        self.client, self.user = client, user
        self.made: dict[str, object] = {}

    def __getattr__(self, name):
        if name.startswith("_") or name in ("client", "user", "made"):
            raise AttributeError(name)
        if name not in self.made:
            self.made[name] = getattr(self, f"_make_{name}")()
        return self.made[name]

    def _post(self, path, body=None, expect=201, **kwargs):
        if "data" in kwargs:
            response = self.client.post(f"/api/v1/{path}", kwargs.pop("data"), format="multipart")
        else:
            response = self.client.post(f"/api/v1/{path}", body or {}, format="json")
        assert response.status_code == expect, response.content
        return response.json()

    def _make_account(self):
        return self._post("accounts", {"name": "Checking", "currency": "USD", "kind": "checking"})["id"]

    def _make_account2(self):
        return self._post("accounts", {"name": "Savings", "currency": "USD", "kind": "savings"})["id"]

    def _make_transaction(self):
        body = {"amount": "12.34", "date": "2026-03-05", "merchant_raw": "Corner Cafe", "account": self.account}
        return self._post("transactions", body)["id"]

    def _make_income(self):
        body = {"amount": "-12.34", "date": "2026-03-06", "merchant_raw": "Deposit", "account": self.account2}
        return self._post("transactions", body)["id"]

    def _make_tag(self):
        return self._post("tags", {"name": f"tag-{self.user.pk}"})["id"]

    def _make_rule(self):
        conditions = {"all": [{"field": "merchant_raw", "op": "contains", "value": "cafe"}]}
        body = {"name": "cafe", "conditions": conditions, "actions": [{"type": "set_category", "value": "Groceries"}]}
        return self._post("rules", body)["id"]

    def _make_profile(self):
        columns = {"date": "Date", "amount": "Amount", "payee": "Payee"}
        return self._post("import-profiles", {"name": "My bank", "format": "csv", "columns": columns})["id"]

    def _make_import(self):
        return self._post("imports", data={"file": _upload(), "account": self.account})["id"]

    def _make_transfer(self):
        body = {"from_account": self.account, "to_account": self.account2, "amount": "5.00", "date": "2026-03-07"}
        return self._post("transfers", body)["id"]

    def _make_suggestion(self):
        out_leg, in_leg = Transaction.objects.get(id=self.transaction), Transaction.objects.get(id=self.income)
        return str(TransferSuggestion.objects.create(user=self.user, out_leg=out_leg, in_leg=in_leg).id)

    def _make_budget(self):
        return self._post("budgets", {"category": "Groceries", "amount": "100.00"})["id"]

    def _make_webhook(self):
        body = {"url": f"http://127.0.0.1:{free_port()}/hook", "events": ["transaction_update"]}
        return self._post("webhooks", body)["id"]

    def _make_delivery(self):
        return self._post(f"webhooks/{self.webhook}/test", expect=200)["id"]

    def _make_attachment(self):
        upload = _upload("receipt.png", png())
        return self._post(f"transactions/{self.transaction}/attachments", data={"file": upload})["id"]

    def _make_holding(self):
        body = {"asset_type": "stock", "identifier": "AAPL", "units": "3", "cost_basis": "300.00", "currency": "USD"}
        return self._post("portfolio/holdings", body)["id"]

    def _make_recurrence(self):
        recurrence = Recurrence.objects.create(
            user=self.user,
            merchant_key="netflix",
            merchant_name="NETFLIX",
            amount_mean=Decimal("15.99"),
            currency="USD",
            period_days=30,
            last_date=datetime.date(2026, 3, 1),
            next_expected_date=datetime.date(2026, 3, 31),
            confidence=0.9,
            occurrences=5,
        )
        return str(recurrence.id)

    def _make_session(self):
        return str(Session.objects.filter(user=self.user, revoked_at__isnull=True).latest("created_at").id)


def _upload(name="statement.csv", content=CSV):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


MOVE = {"amount": "1.00", "date": "2026-03-07"}
# (method, path, body): {name} is the owner's object, {mine.name} the intruder's own.
# A body that is a callable gets both users' objects (for multipart uploads).
CASES = [
    ("GET", "accounts/{account}", None),
    ("PATCH", "accounts/{account}", {"name": "Mine now"}),
    ("DELETE", "accounts/{account}", None),
    ("GET", "accounts/{account}/balances", None),
    ("POST", "accounts/{account}/reconcile", {"date": "2026-03-31", "balance": "0.00"}),
    ("POST", "accounts/{account}/reconcile/undo", {}),
    ("GET", "attachments/{attachment}", None),
    ("DELETE", "attachments/{attachment}", None),
    ("DELETE", "auth/sessions/{session}", None),
    ("GET", "budgets/{budget}", None),
    ("PATCH", "budgets/{budget}", {"amount": "1.00"}),
    ("DELETE", "budgets/{budget}", None),
    ("GET", "budgets/{budget}/history", None),
    ("POST", "budgets/{budget}/renew", {}),
    ("GET", "import-profiles/{profile}", None),
    ("PATCH", "import-profiles/{profile}", {"name": "Mine now"}),
    ("DELETE", "import-profiles/{profile}", None),
    ("GET", "imports/{import}", None),
    ("DELETE", "imports/{import}", None),
    ("POST", "imports/{import}/commit", {}),
    ("POST", "imports/{import}/save-profile", {"name": "Copied"}),
    ("GET", "transactions/import/{import}", None),
    ("GET", "portfolio/holdings/{holding}", None),
    ("PATCH", "portfolio/holdings/{holding}", {"units": "1"}),
    ("DELETE", "portfolio/holdings/{holding}", None),
    ("POST", "portfolio/holdings/{holding}/valuation", {"price": "1.00"}),
    ("PATCH", "recurrences/{recurrence}", {"dismissed": True}),
    ("GET", "rules/{rule}", None),
    ("PATCH", "rules/{rule}", {"name": "Mine now"}),
    ("DELETE", "rules/{rule}", None),
    ("POST", "rules/{rule}/apply", {}),
    ("POST", "rules/{rule}/preview", {}),
    ("PATCH", "tags/{tag}", {"name": "mine-now"}),
    ("DELETE", "tags/{tag}", None),
    ("POST", "tags/{tag}/merge", {"into": "{mine.tag}"}),
    ("GET", "transactions/{transaction}", None),
    ("PATCH", "transactions/{transaction}", {"notes": "mine now"}),
    ("DELETE", "transactions/{transaction}", None),
    ("GET", "transactions/{transaction}/changes", None),
    ("GET", "transactions/{transaction}/proof", None),
    ("POST", "transactions/{transaction}/restore", {}),
    ("GET", "transactions/{transaction}/splits", None),
    ("PUT", "transactions/{transaction}/splits", {"lines": []}),
    ("GET", "transactions/{transaction}/attachments", None),
    ("POST", "transactions/{transaction}/attachments", lambda: {"file": _upload("receipt.png", png())}),
    ("GET", "transfers/{transfer}", None),
    ("DELETE", "transfers/{transfer}", None),
    ("POST", "transfers/suggestions/{suggestion}/reject", {}),
    ("GET", "webhooks/{webhook}", None),
    ("PATCH", "webhooks/{webhook}", {"enabled": False}),
    ("DELETE", "webhooks/{webhook}", None),
    ("GET", "webhooks/{webhook}/deliveries", None),
    ("POST", "webhooks/{webhook}/rotate-secret", {}),
    ("POST", "webhooks/{webhook}/test", {}),
    ("GET", "webhooks/deliveries/{delivery}", None),
    ("POST", "webhooks/deliveries/{delivery}/redeliver", {}),
    # An id in a body field.
    ("POST", "transactions", {"amount": "1.00", "date": "2026-03-05", "merchant_raw": "x", "account": "{account}"}),
    ("POST", "transactions/bulk", {"ids": ["{transaction}"], "set": {"notes": "mine now"}}),
    ("POST", "transactions/bulk", {"ids": ["{mine.transaction}"], "set": {"account": "{account}"}}),
    ("POST", "transactions/bulk", {"filter": {"account": "{account}"}, "set": {"notes": "mine now"}}),
    ("POST", "transactions/bulk", {"filter": {"account": "{account}"}, "delete": True}),
    ("POST", "transactions/correct", {"transaction_id": "{transaction}", "new_category": "Groceries"}),
    ("POST", "transfers", {"from_account": "{account}", "to_account": "{mine.account}", **MOVE}),
    ("POST", "transfers", {"from_account": "{mine.account}", "to_account": "{account}", **MOVE}),
    ("POST", "transfers/match", {"out_id": "{transaction}", "in_id": "{mine.income}"}),
    ("POST", "transfers/match", {"out_id": "{mine.transaction}", "in_id": "{income}"}),
    ("POST", "tags/{mine.tag}/merge", {"into": "{tag}"}),
    ("POST", "rules/{mine.rule}/preview", {"filter": {"account": "{account}"}}),
    ("POST", "rules/{mine.rule}/apply", {"filter": {"account": "{account}"}}),
    (
        "POST",
        "rules",
        {"name": "x", "conditions": {"field": "amount", "op": "gt", "value": "0"},
         "actions": [{"type": "mark_transfer", "value": {"account": "{account}"}}]},
    ),
    ("PATCH", "rules/{mine.rule}", {"actions": [{"type": "mark_transfer", "value": {"account": "{account}"}}]}),
    (
        "POST",
        "rules/test",
        {"conditions": {"field": "amount", "op": "gt", "value": "0"},
         "actions": [{"type": "mark_transfer", "value": "{account}"}], "transaction": {"amount": "5.00"}},
    ),
    ("POST", "imports", lambda: {"file": _upload(), "account": "{account}"}),
    ("POST", "imports", lambda: {"file": _upload(), "account": "{mine.account}", "profile": "{profile}"}),
    ("POST", "transactions/import", lambda: {"file": _upload(), "account": "{account}"}),
    ("POST", "transactions/import", lambda: {"file": _upload(), "account": "{mine.account}", "profile": "{profile}"}),
    # An id in a filter.
    ("GET", "transactions?account={account}", None),
    ("GET", "transactions/export?account={account}", None),
    ("GET", "reports/spending?account={account}", None),
    ("GET", "reports/cashflow?account={account}", None),
    ("GET", "reports/net-worth?account={account}", None),
    ("GET", "reports/trends?account={account}", None),
    ("GET", "reports/budgets?account={account}", None),
]  # fmt: skip


PLACEHOLDER = re.compile(r"\{(mine\.)?(\w+)\}")
ANY_ID = "00000000-0000-0000-0000-000000000000"


def _fill(value, owner: Objects, mine: Objects):
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: str(getattr(mine if m.group(1) else owner, m.group(2))), value)
    if isinstance(value, dict):
        return {k: _fill(v, owner, mine) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, owner, mine) for v in value]
    return value


def _rows(user) -> dict[str, list[dict]]:
    return {
        model.__name__: list(model.objects.filter(**{field: user}).order_by("pk").values())
        for model, field in ROWS_OF_USER.items()
    }


def _operation(method: str, path: str) -> tuple[str, str]:
    """The OpenAPI operation a request path of CASES belongs to."""
    bare = PLACEHOLDER.sub(ANY_ID, path.split("?", 1)[0])
    for (op_method, op_path), _ in openapi_responses().items():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op_path)) + "$"
        if op_method == method and re.match(pattern, f"/api/v1/{bare}"):
            return op_method, op_path
    raise AssertionError(f"no OpenAPI operation for {method} {path}")


def _case_id(case) -> str:
    method, path, body = case
    where = "" if body is None or callable(body) else "-" + "-".join(sorted(body))[:40]
    return f"{method} {path}{where}"


@pytest.fixture
def private_webhooks(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_URLS = True
    settings.WEBHOOKS_REQUIRE_HTTPS = False


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_another_users_id_is_a_404_and_writes_nothing(
    case, auth_client, user, other_client, other_user, private_webhooks
):
    method, path, body = case
    owner, mine = Objects(auth_client, user), Objects(other_client, other_user)
    url = "/api/v1/" + _fill(path, owner, mine)
    multipart = callable(body)
    payload = _fill(body() if multipart else body, owner, mine)
    before = (_rows(user), _rows(other_user))

    response = (
        other_client.generic(method, url)
        if payload is None and method in ("GET", "DELETE")
        else getattr(other_client, method.lower())(url, payload, format="multipart" if multipart else "json")
    )

    assert response.status_code == 404, response.content
    body_json = response.json()
    assert body_json["type"] == "client_error" and body_json["errors"][0]["code"] == "not_found", body_json
    assert "404" in openapi_responses()[_operation(method, path)]
    assert (_rows(user), _rows(other_user)) == before


def test_marking_another_users_notifications_read_changes_none_of_them(other_client, user):
    theirs = Notification.objects.create(user=user, type="broadcast", data={})

    response = other_client.post("/api/v1/notifications/read", {"ids": [theirs.id]}, format="json")

    assert response.status_code == 200
    assert response.json() == {"updated": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_every_operation_that_takes_an_id_in_its_path_is_swept():
    swept = {_operation(method, path) for method, path, _ in CASES}
    with_path_id = {
        (method, path)
        for (method, path) in openapi_responses()
        if "{" in path
        and method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        # Merchants are shared by everyone; batches are staff's (and named by date).
        and not path.startswith(("/api/v1/merchants/", "/api/v1/ledger/batches/"))
    }
    assert with_path_id - swept == set()
