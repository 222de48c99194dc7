"""/api/v1/portfolio/holdings and /api/v1/portfolio/summary."""

import datetime
from decimal import Decimal

import pytest

from ledger.models import PortfolioHolding
from realtime.models import Notification
from tests.conftest import login
from tests.ledger.factories import PortfolioHoldingFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/portfolio/holdings"
SUMMARY_URL = "/api/v1/portfolio/summary"
NOW = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


def travel(time_machine, client, user, when):
    """Move the clock; the old access token has expired by then, so sign in again."""
    time_machine.move_to(when, tick=False)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login(client, user)['access']}")


def create(client, **fields):
    body = {"asset_type": "stock", "identifier": "AAPL", "units": "10", "cost_basis": "1500", **fields}
    return client.post(URL, body, format="json")


def error(response) -> tuple[str, str | None, str]:
    first = response.json()["errors"][0]
    return response.json()["type"], first["attr"], first["code"]


def test_create_normalises_and_answers_the_holding(auth_client, user):
    response = create(auth_client, identifier=" aapl ", name="Apple Inc.", units="10.5", cost_basis="1500.5")

    assert response.status_code == 201, response.content
    body = response.json()
    holding = PortfolioHolding.objects.get(user=user)
    assert body == {
        "id": str(holding.id),
        "asset_type": "stock",
        "identifier": "AAPL",
        "name": "Apple Inc.",
        "currency": "USD",
        "units": "10.50000000",
        "cost_basis": "1500.50",
        "last_price": None,
        "last_valuation": None,
        "unrealised_gain": None,
        "unrealised_gain_pct": None,
        "valued_at": None,
        "price_source": "",
        "is_stale": True,
        "created_at": "2026-03-15T12:00:00Z",
        "updated_at": "2026-03-15T12:00:00Z",
    }
    assert (holding.units, holding.cost_basis) == (Decimal("10.5"), Decimal("1500.50"))


@pytest.mark.parametrize(
    ("fields", "attr", "code"),
    [
        ({"units": "-1"}, "units", "min_value"),
        ({"cost_basis": "-0.01"}, "cost_basis", "min_value"),
        ({"units": "0.123456789"}, "units", "max_decimal_places"),
        ({"cost_basis": "10.001"}, "cost_basis", "max_decimal_places"),
        ({"units": "abc"}, "units", "invalid"),
        ({"asset_type": "house"}, "asset_type", "invalid_choice"),
        ({"identifier": "AAPL!"}, "identifier", "invalid"),
        ({"asset_type": "bond", "identifier": "US0378331006"}, "identifier", "invalid"),
        ({"asset_type": "cash", "identifier": "euro"}, "identifier", "invalid"),
        ({"currency": "dollars"}, "currency", "invalid"),
        ({"currency": "U$D"}, "currency", "invalid"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(auth_client, fields, attr, code):
    response = create(auth_client, **fields)

    assert response.status_code == 400, response.content
    assert error(response) == ("validation_error", attr, code)
    assert not PortfolioHolding.objects.exists()


def test_missing_fields_are_each_reported(auth_client):
    response = auth_client.post(URL, {}, format="json")

    assert response.status_code == 400
    assert {e["attr"] for e in response.json()["errors"]} == {"asset_type", "identifier", "units", "cost_basis"}


def test_duplicate_is_a_409_with_the_existing_id(auth_client, user):
    first = create(auth_client).json()

    response = create(auth_client, units="1", cost_basis="1")

    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]
    assert error(response) == ("client_error", None, "duplicate")
    assert PortfolioHolding.objects.filter(user=user).count() == 1


@pytest.mark.parametrize(
    ("asset_type", "stored", "typed"),
    [
        ("stock", "AAPL", "aapl"),
        ("crypto", "BTC", " btc"),
        ("bond", "US0378331005", "us 0378331005"),
        ("other", "Gold bar", "Gold   bar "),
    ],
)
def test_duplicate_after_normalisation_is_a_409(auth_client, asset_type, stored, typed):
    first = create(auth_client, asset_type=asset_type, identifier=stored).json()

    response = create(auth_client, asset_type=asset_type, identifier=typed)

    assert response.status_code == 409
    assert response.json()["existing_id"] == first["id"]


def test_another_user_may_hold_the_same_asset(auth_client, other_client):
    assert create(auth_client).status_code == 201
    assert create(other_client, identifier="aapl").status_code == 201


def test_list_pages_and_filters_by_asset_type(auth_client, user):
    for ticker in ("MSFT", "AAPL", "NVDA"):
        PortfolioHoldingFactory(user=user, identifier=ticker)
    PortfolioHoldingFactory(user=user, asset_type="crypto", identifier="BTC")

    page = auth_client.get(URL, {"limit": 2}).json()
    stocks = auth_client.get(URL, {"asset_type": "stock"}).json()

    assert page["count"] == 4
    assert [h["identifier"] for h in page["results"]] == ["BTC", "AAPL"]
    assert "offset=2" in page["next"]
    assert [h["identifier"] for h in stocks["results"]] == ["AAPL", "MSFT", "NVDA"]


def test_list_refuses_an_unknown_asset_type_filter(auth_client):
    response = auth_client.get(URL, {"asset_type": "house"})

    assert response.status_code == 400
    assert error(response)[1] == "asset_type"


def test_list_filters_stale_holdings(auth_client, user):
    PortfolioHoldingFactory(user=user, identifier="OLD", valued_at=NOW - datetime.timedelta(days=2))
    PortfolioHoldingFactory(user=user, identifier="NEW", valued_at=NOW)

    stale = auth_client.get(URL, {"stale": "true"}).json()["results"]
    fresh = auth_client.get(URL, {"stale": "false"}).json()["results"]

    assert [(h["identifier"], h["is_stale"]) for h in stale] == [("OLD", True)]
    assert [(h["identifier"], h["is_stale"]) for h in fresh] == [("NEW", False)]
    bad = auth_client.get(URL, {"stale": "maybe"})
    assert (bad.status_code, bad.json()["errors"][0]["attr"]) == (400, "stale")


def test_retrieve_patch_and_delete(auth_client, user):
    holding_id = create(auth_client).json()["id"]

    got = auth_client.get(f"{URL}/{holding_id}")
    patched = auth_client.patch(f"{URL}/{holding_id}", {"units": "12", "name": "  Apple  "}, format="json")
    deleted = auth_client.delete(f"{URL}/{holding_id}")

    assert (got.status_code, got.json()["identifier"]) == (200, "AAPL")
    assert patched.status_code == 200, patched.content
    assert (patched.json()["units"], patched.json()["name"], patched.json()["cost_basis"]) == (
        "12.00000000",
        "Apple",
        "1500.00",
    )
    assert deleted.status_code == 204
    assert not PortfolioHolding.objects.filter(user=user).exists()
    assert auth_client.get(f"{URL}/{holding_id}").status_code == 404


def test_patch_refuses_negative_units(auth_client, user):
    holding = PortfolioHoldingFactory(user=user, units=Decimal("5"))

    response = auth_client.patch(f"{URL}/{holding.id}", {"units": "-5"}, format="json")

    assert response.status_code == 400
    assert error(response)[1] == "units"
    holding.refresh_from_db()
    assert holding.units == Decimal("5")


def test_patch_into_another_holdings_identifier_is_a_409(auth_client, user):
    aapl = PortfolioHoldingFactory(user=user, identifier="AAPL")
    msft = PortfolioHoldingFactory(user=user, identifier="MSFT")

    response = auth_client.patch(f"{URL}/{msft.id}", {"identifier": "aapl"}, format="json")

    assert response.status_code == 409
    assert response.json()["existing_id"] == str(aapl.id)
    msft.refresh_from_db()
    assert msft.identifier == "MSFT"


def test_patch_asset_type_revalidates_the_identifier(auth_client, user):
    holding = PortfolioHoldingFactory(user=user, asset_type="other", identifier="Gold bar")

    response = auth_client.patch(f"{URL}/{holding.id}", {"asset_type": "stock"}, format="json")

    assert response.status_code == 400
    assert error(response)[1] == "identifier"


def test_valuation_sets_price_and_value_and_sends_portfolio_update(auth_client, user):
    holding_id = create(auth_client).json()["id"]

    response = auth_client.post(f"{URL}/{holding_id}/valuation", {"price": "190.125"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["last_price"], body["last_valuation"], body["unrealised_gain"], body["unrealised_gain_pct"]) == (
        "190.12500000",
        "1901.25",
        "401.25",
        "26.75",
    )
    assert (body["valued_at"], body["price_source"], body["is_stale"]) == ("2026-03-15T12:00:00Z", "manual", False)
    event = Notification.objects.get(user=user, type="portfolio_update")
    assert event.data == {"holding": body}


def test_valuation_with_a_time_and_a_source(auth_client, user):
    holding = PortfolioHoldingFactory(user=user, units=Decimal("2"), cost_basis=Decimal("0"))

    response = auth_client.post(
        f"{URL}/{holding.id}/valuation",
        {"price": "0.5", "valued_at": "2026-03-15T09:30:00+01:00", "source": "broker statement"},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["last_valuation"], body["unrealised_gain"], body["unrealised_gain_pct"]) == ("1.00", "1.00", None)
    assert (body["valued_at"], body["price_source"]) == ("2026-03-15T08:30:00Z", "broker statement")


@pytest.mark.parametrize(
    ("payload", "attr"),
    [
        ({"price": "-1"}, "price"),
        ({}, "price"),
        ({"price": "1", "valued_at": "2026-03-16T12:00:00Z"}, "valued_at"),
        ({"price": "100000000000"}, "price"),  # 10 units x 1e11 does not fit Decimal(12,2)
    ],
)
def test_bad_valuation_is_a_400_and_sends_nothing(auth_client, user, payload, attr):
    holding = PortfolioHoldingFactory(user=user)

    response = auth_client.post(f"{URL}/{holding.id}/valuation", payload, format="json")

    assert response.status_code == 400, response.content
    assert error(response)[1] == attr
    assert not Notification.objects.exists()
    holding.refresh_from_db()
    assert holding.last_price is None


def test_valuation_older_than_the_stored_one_is_a_409(auth_client, user):
    holding = PortfolioHoldingFactory(user=user)
    auth_client.post(f"{URL}/{holding.id}/valuation", {"price": "5"}, format="json")

    response = auth_client.post(
        f"{URL}/{holding.id}/valuation", {"price": "4", "valued_at": "2026-03-15T11:00:00Z"}, format="json"
    )

    assert response.status_code == 409
    assert error(response) == ("client_error", None, "older_valuation")
    assert response.json()["valued_at"] == "2026-03-15T12:00:00Z"


def test_is_stale_flips_after_24_hours(auth_client, user, time_machine):
    holding = PortfolioHoldingFactory(user=user)
    auth_client.post(f"{URL}/{holding.id}/valuation", {"price": "5"}, format="json")

    travel(time_machine, auth_client, user, NOW + datetime.timedelta(hours=24))
    at_24h = auth_client.get(f"{URL}/{holding.id}").json()["is_stale"]
    travel(time_machine, auth_client, user, NOW + datetime.timedelta(hours=24, minutes=1))
    after = auth_client.get(f"{URL}/{holding.id}").json()["is_stale"]
    listed = auth_client.get(URL).json()["results"][0]["is_stale"]
    summary = auth_client.get(SUMMARY_URL).json()

    assert (at_24h, after, listed) == (False, True, True)
    assert summary["stale_count"] == 1
    assert summary["stale"][0]["id"] == str(holding.id)


def test_summary_endpoint_answers_exact_strings(auth_client, user):
    holding = create(auth_client, units="3", cost_basis="1000").json()
    auth_client.post(f"{URL}/{holding['id']}/valuation", {"price": "333.335"}, format="json")
    create(auth_client, asset_type="cash", identifier="eur", units="250.5", cost_basis="250.5")

    response = auth_client.get(SUMMARY_URL)

    assert response.status_code == 200
    body = response.json()
    assert (body["holding_count"], body["valued_count"], body["stale_count"], body["currencies"]) == (
        2,
        1,
        1,
        ["EUR", "USD"],
    )
    assert [(t["currency"], t["cost_basis"], t["market_value"], t["unrealised_gain"]) for t in body["totals"]] == [
        ("EUR", "250.50", "250.50", "0.00"),
        ("USD", "1000.00", "1000.01", "0.01"),
    ]
    assert [(r["currency"], r["asset_type"], r["unrealised_gain_pct"]) for r in body["by_asset_type"]] == [
        ("EUR", "cash", "0.00"),
        ("USD", "stock", "0.00"),
    ]
    assert [s["identifier"] for s in body["stale"]] == ["EUR"]


@pytest.mark.parametrize(
    ("method", "suffix", "payload"),
    [
        ("get", "", None),
        ("patch", "", {"units": "1"}),
        ("delete", "", None),
        ("post", "/valuation", {"price": "1"}),
    ],
)
def test_another_users_holding_is_a_404(auth_client, other_user, method, suffix, payload):
    theirs = PortfolioHoldingFactory(user=other_user, units=Decimal("7"))

    response = getattr(auth_client, method)(f"{URL}/{theirs.id}{suffix}", payload, format="json")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert (theirs.units, theirs.last_price) == (Decimal("7"), None)
    assert not Notification.objects.exists()


def test_another_users_holdings_are_not_listed_or_summed(auth_client, user, other_user):
    mine = PortfolioHoldingFactory(user=user, identifier="AAPL", cost_basis=Decimal("10.00"))
    PortfolioHoldingFactory(user=other_user, identifier="AAPL", cost_basis=Decimal("99.00"))
    PortfolioHoldingFactory(user=other_user, identifier="TSLA")

    listed = auth_client.get(URL).json()
    summary = auth_client.get(SUMMARY_URL).json()

    assert (listed["count"], [h["id"] for h in listed["results"]]) == (1, [str(mine.id)])
    assert (summary["holding_count"], summary["totals"][0]["cost_basis"]) == (1, "10.00")
    assert [s["id"] for s in summary["stale"]] == [str(mine.id)]


def test_anonymous_is_refused(api_client):
    assert api_client.get(URL).status_code == 401
    assert api_client.get(SUMMARY_URL).status_code == 401
