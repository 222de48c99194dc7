"""ledger.portfolio: identifier rules, Decimal arithmetic, the summary and the stale rule."""

import datetime
from decimal import Decimal

import pytest

from config.exceptions import Conflict, Invalid, NotFound
from ledger.models import PortfolioHolding
from ledger.portfolio import services as portfolio
from realtime.models import Notification
from tests.ledger.factories import PortfolioHoldingFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.UTC)
AssetType = PortfolioHolding.AssetType


@pytest.mark.parametrize(
    ("asset_type", "raw", "stored"),
    [
        ("stock", "aapl", "AAPL"),
        ("stock", "  brk.b ", "BRK.B"),
        ("stock", "rds-a", "RDS-A"),
        ("stock", "7203.t", "7203.T"),
        ("etf", "vwrl.l", "VWRL.L"),
        ("crypto", " btc ", "BTC"),
        ("crypto", "1inch", "1INCH"),
        ("bond", "us0378331005", "US0378331005"),  # Apple's ISIN
        ("bond", "US 0378331 005", "US0378331005"),
        ("bond", "DE000BAY0017", "DE000BAY0017"),  # letters inside the national part
        ("bond", "037833-100", "037833100"),  # Apple's CUSIP
        ("cash", "eur", "EUR"),
        ("other", "  Gold   bar\t1 oz ", "Gold bar 1 oz"),
    ],
)
def test_identifier_is_normalised_per_asset_type(asset_type, raw, stored):
    assert portfolio.identifier_normalize(asset_type=asset_type, identifier=raw) == stored


@pytest.mark.parametrize(
    ("asset_type", "raw"),
    [
        ("stock", ""),
        ("stock", "AAPL!"),
        ("stock", "BRK..B"),
        ("stock", ".AAPL"),
        ("stock", "AB CD"),
        ("stock", "ABCDEFGHIJKLM"),  # 13 characters
        ("etf", "VWRL.L-"),
        ("crypto", "BTC-USD"),
        ("crypto", "X" * 21),
        ("bond", "US0378331006"),  # wrong ISIN check digit
        ("bond", "037833101"),  # wrong CUSIP check digit
        ("bond", "AAPL"),
        ("cash", "EURO"),
        ("cash", "E1R"),
        ("other", "   "),
        ("other", "x" * 65),
    ],
)
def test_bad_identifiers_are_a_field_error(asset_type, raw):
    with pytest.raises(Invalid) as caught:
        portfolio.identifier_normalize(asset_type=asset_type, identifier=raw)
    assert caught.value.attr == "identifier"


def test_unknown_asset_type_is_refused_by_the_service(user):
    with pytest.raises(Invalid) as caught:
        portfolio.holding_create(user=user, asset_type="house", identifier="X", units=Decimal(1), cost_basis=Decimal(1))
    assert caught.value.attr == "asset_type"


@pytest.mark.parametrize(
    ("field", "value"),
    [("units", Decimal("-1")), ("units", Decimal("0.000000001")), ("cost_basis", Decimal("-0.01"))],
)
def test_service_refuses_numbers_the_columns_cannot_hold(user, field, value):
    kwargs = {"units": Decimal(1), "cost_basis": Decimal(1), field: value}
    with pytest.raises(Invalid) as caught:
        portfolio.holding_create(user=user, asset_type="stock", identifier="AAPL", **kwargs)
    assert caught.value.attr == field
    assert not PortfolioHolding.objects.exists()


@pytest.mark.parametrize(
    ("units", "price", "value"),
    [
        ("3", "333.335", "1000.01"),  # half up, not half even (which gives 1000.00)
        ("3", "333.33499999", "1000.00"),
        ("0.12345678", "64000.12345678", "7901.25"),
        ("1", "0", "0.00"),
        ("123456789.12345678", "0.00000001", "1.23"),
    ],
)
def test_valuation_is_units_times_price_rounded_half_up_to_the_cent(units, price, value):
    assert str(portfolio.valuation_of(units=Decimal(units), price=Decimal(price))) == value


def test_valuation_that_does_not_fit_the_column_is_refused():
    with pytest.raises(Invalid) as caught:
        portfolio.valuation_of(units=Decimal("100000"), price=Decimal("100000"))
    assert caught.value.attr == "price"


@pytest.mark.parametrize(
    ("gain", "cost", "percent"),
    [("401.25", "1500.00", "26.75"), ("-0.01", "1000.00", "0.00"), ("1.00", "3.00", "33.33"), ("2", "3", "66.67")],
)
def test_gain_percent_has_two_places_and_no_negative_zero(gain, cost, percent):
    assert str(portfolio.gain_percent(Decimal(gain), Decimal(cost))) == percent


def test_gain_percent_is_none_at_zero_cost():
    assert portfolio.gain_percent(Decimal("50.00"), Decimal("0.00")) is None


def test_revalue_sets_the_valuation_and_records_portfolio_update(user):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("10"), cost_basis=Decimal("1500"))

    holding = portfolio.holding_revalue(holding=holding, price=Decimal("190.125"), source="manual", now=NOW)

    holding.refresh_from_db()
    assert (holding.last_price, holding.last_valuation, holding.valued_at, holding.price_source) == (
        Decimal("190.12500000"),
        Decimal("1901.25"),
        NOW,
        "manual",
    )
    event = Notification.objects.get(user=user, type="portfolio_update")
    data = event.data["holding"]
    assert (data["id"], data["identifier"], data["units"], data["last_price"]) == (
        str(holding.id),
        "AAPL",
        "10.00000000",
        "190.12500000",
    )
    assert (data["last_valuation"], data["unrealised_gain"], data["unrealised_gain_pct"]) == (
        "1901.25",
        "401.25",
        "26.75",
    )
    assert (data["valued_at"], data["is_stale"]) == ("2026-03-15T12:00:00Z", False)


def test_revalue_with_the_same_quote_again_changes_nothing(user):
    holding = PortfolioHoldingFactory(user=user)
    portfolio.holding_revalue(holding=holding, price=Decimal("5"), source="manual", valued_at=NOW, now=NOW)

    portfolio.holding_revalue(holding=holding, price=Decimal("5.00"), source="manual", valued_at=NOW, now=NOW)

    assert Notification.objects.filter(type="portfolio_update").count() == 1


def test_revalue_older_than_the_stored_valuation_is_a_conflict(user):
    holding = PortfolioHoldingFactory(user=user)
    portfolio.holding_revalue(holding=holding, price=Decimal("5"), source="manual", valued_at=NOW, now=NOW)

    with pytest.raises(Conflict):
        portfolio.holding_revalue(
            holding=holding, price=Decimal("4"), source="manual", valued_at=NOW - datetime.timedelta(hours=1), now=NOW
        )
    holding.refresh_from_db()
    assert holding.last_price == Decimal("5")


def test_revalue_in_the_future_is_refused(user):
    holding = PortfolioHoldingFactory(user=user)
    with pytest.raises(Invalid) as caught:
        portfolio.holding_revalue(
            holding=holding, price=Decimal("5"), source="manual", valued_at=NOW + datetime.timedelta(hours=1), now=NOW
        )
    assert caught.value.attr == "valued_at"
    assert not Notification.objects.exists()


def test_changing_units_reapplies_the_last_price(user):
    holding = PortfolioHoldingFactory(user=user, units=Decimal("10"))
    portfolio.holding_revalue(holding=holding, price=Decimal("2.005"), source="manual", now=NOW)

    holding = portfolio.holding_update(holding=holding, units=Decimal("3"))

    holding.refresh_from_db()
    assert (holding.last_valuation, holding.valued_at) == (Decimal("6.02"), NOW)


def test_changing_the_identifier_or_currency_clears_the_valuation(user):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL")
    portfolio.holding_revalue(holding=holding, price=Decimal("5"), source="manual", now=NOW)

    holding = portfolio.holding_update(holding=holding, currency="eur")

    holding.refresh_from_db()
    assert holding.currency == "EUR"
    assert (holding.last_price, holding.last_valuation, holding.valued_at, holding.price_source) == (
        None,
        None,
        None,
        "",
    )


def test_same_identifier_in_another_asset_type_is_another_holding(user):
    portfolio.holding_create(user=user, asset_type="stock", identifier="gold", units=Decimal(1), cost_basis=Decimal(1))
    portfolio.holding_create(user=user, asset_type="other", identifier="GOLD", units=Decimal(1), cost_basis=Decimal(1))
    assert sorted(PortfolioHolding.objects.values_list("asset_type", "identifier")) == [
        ("other", "GOLD"),
        ("stock", "GOLD"),
    ]


def test_a_concurrent_duplicate_caught_by_the_constraint_is_the_same_409(user, monkeypatch):
    """The pre-check lost the race: the insert hits the unique constraint."""
    existing = PortfolioHoldingFactory(user=user, identifier="AAPL")
    real = portfolio.holding_find_duplicate
    calls = []

    def first_check_misses(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(portfolio, "holding_find_duplicate", first_check_misses)

    with pytest.raises(Conflict) as caught:
        portfolio.holding_create(
            user=user, asset_type="stock", identifier="aapl", units=Decimal(1), cost_basis=Decimal(1)
        )
    assert caught.value.extra == {"existing_id": str(existing.id)}
    assert len(calls) == 2
    assert PortfolioHolding.objects.count() == 1


def test_cash_defaults_to_its_own_currency_and_others_to_the_users_preference(user):
    user.preferences = {"currency": "gbp"}
    user.save()

    cash = portfolio.holding_create(
        user=user, asset_type="cash", identifier="chf", units=Decimal(100), cost_basis=Decimal(100)
    )
    stock = portfolio.holding_create(
        user=user, asset_type="stock", identifier="vod.l", units=Decimal(1), cost_basis=Decimal(1)
    )

    assert (cash.identifier, cash.currency, stock.currency) == ("CHF", "CHF", "GBP")


def _value(holding, price, valued_at):
    portfolio.holding_revalue(holding=holding, price=Decimal(price), source="manual", valued_at=valued_at, now=NOW)


def test_summary_adds_decimals_per_currency_and_asset_type(user, other_user):
    aapl = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("10"), cost_basis=Decimal("1500.00"))
    msft = PortfolioHoldingFactory(user=user, identifier="MSFT", units=Decimal("3"), cost_basis=Decimal("1000.00"))
    PortfolioHoldingFactory(  # BTC: never valued
        user=user, asset_type="crypto", identifier="BTC", units=Decimal("0.5"), cost_basis=Decimal("20000.00")
    )
    vwrl = PortfolioHoldingFactory(
        user=user, asset_type="etf", identifier="VWRL.L", currency="EUR", units=Decimal("7.5"), cost_basis=Decimal(700)
    )
    gift = PortfolioHoldingFactory(
        user=user, asset_type="other", identifier="Gift shares", currency="EUR", units=Decimal(1), cost_basis=0
    )
    PortfolioHoldingFactory(user=other_user, identifier="AAPL", cost_basis=Decimal("99999.00"))
    _value(aapl, "190.125", NOW - datetime.timedelta(hours=1))  # 1901.25
    _value(msft, "333.335", NOW - datetime.timedelta(hours=25))  # 1000.005 -> 1000.01, stale
    _value(vwrl, "99.99", NOW)  # 749.925 -> 749.93
    _value(gift, "50", NOW)  # 50.00 on a zero cost

    summary = portfolio.portfolio_summary(user=user, now=NOW)

    assert (summary["holding_count"], summary["valued_count"], summary["stale_count"]) == (5, 4, 2)
    assert summary["currencies"] == ["EUR", "USD"]
    assert summary["totals"] == [
        {
            "currency": "EUR",
            "holding_count": 2,
            "valued_count": 2,
            "stale_count": 0,
            "cost_basis": "700.00",
            "market_value": "799.93",
            "unrealised_gain": "99.93",
            "unrealised_gain_pct": "14.28",
        },
        {
            "currency": "USD",
            "holding_count": 3,
            "valued_count": 2,
            "stale_count": 2,
            "cost_basis": "22500.00",
            "market_value": "22901.26",  # BTC, never valued, at its cost
            "unrealised_gain": "401.26",
            "unrealised_gain_pct": "1.78",
        },
    ]
    rows = {(r["currency"], r["asset_type"]): r for r in summary["by_asset_type"]}
    assert [key for key in rows] == [("EUR", "etf"), ("EUR", "other"), ("USD", "crypto"), ("USD", "stock")]
    figures = ("cost_basis", "market_value", "unrealised_gain", "unrealised_gain_pct", "stale_count")
    assert {key: tuple(row[f] for f in figures) for key, row in rows.items()} == {
        ("EUR", "etf"): ("700.00", "749.93", "49.93", "7.13", 0),
        ("EUR", "other"): ("0.00", "50.00", "50.00", None, 0),
        ("USD", "stock"): ("2500.00", "2901.26", "401.26", "16.05", 1),
        ("USD", "crypto"): ("20000.00", "20000.00", "0.00", "0.00", 1),
    }
    assert [(s["identifier"], s["valued_at"]) for s in summary["stale"]] == [
        ("BTC", None),
        ("MSFT", "2026-03-14T11:00:00Z"),
    ]
    assert summary["as_of"] == "2026-03-15T12:00:00Z"


def test_summary_of_no_holdings_is_empty(user):
    summary = portfolio.portfolio_summary(user=user, now=NOW)
    assert (summary["holding_count"], summary["totals"], summary["by_asset_type"], summary["stale"]) == (0, [], [], [])


def test_stale_means_never_valued_or_valued_more_than_24_hours_ago(user):
    never = PortfolioHoldingFactory(user=user)
    exactly = PortfolioHoldingFactory(user=user, valued_at=NOW - datetime.timedelta(hours=24))
    older = PortfolioHoldingFactory(user=user, valued_at=NOW - datetime.timedelta(hours=24, seconds=1))
    fresh = PortfolioHoldingFactory(user=user, valued_at=NOW)

    flags = {h.pk: portfolio.holding_is_stale(h, now=NOW) for h in (never, exactly, older, fresh)}
    in_sql = set(PortfolioHolding.objects.filter(portfolio.stale_q(now=NOW)).values_list("pk", flat=True))

    assert flags == {never.pk: True, exactly.pk: False, older.pk: True, fresh.pk: False}
    assert in_sql == {never.pk, older.pk}


def test_updating_a_holding_deleted_meanwhile_is_a_404(user):

    holding = PortfolioHoldingFactory(user=user, identifier="AAPL")
    PortfolioHolding.objects.filter(pk=holding.pk).delete()
    with pytest.raises(NotFound):
        portfolio.holding_update(holding=holding, units=Decimal("2"))
    with pytest.raises(NotFound):
        portfolio.holding_revalue(holding=holding, price=Decimal("2"))


def test_a_valuation_a_little_in_the_future_is_stored_as_now(user):
    now = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.UTC)
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("1"))
    ahead = now + datetime.timedelta(minutes=4)
    portfolio.holding_revalue(holding=holding, price=Decimal("1"), valued_at=ahead, now=now)
    holding.refresh_from_db()
    assert holding.valued_at == now
    # ...so the next valuation "now" is not refused as older.
    portfolio.holding_revalue(holding=holding, price=Decimal("2"), now=now + datetime.timedelta(seconds=1))
    holding.refresh_from_db()
    assert holding.last_price == Decimal("2")


def test_a_units_change_that_moves_the_valuation_sends_portfolio_update(user):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("1"))
    portfolio.holding_revalue(holding=holding, price=Decimal("10"))
    portfolio.holding_update(holding=holding, name="Apple")  # valuation unchanged: no event
    assert Notification.objects.filter(type="portfolio_update").count() == 1

    portfolio.holding_update(holding=holding, units=Decimal("3"))

    event = Notification.objects.filter(type="portfolio_update").order_by("-id").first()
    assert Notification.objects.filter(type="portfolio_update").count() == 2
    assert (event.data["holding"]["units"], event.data["holding"]["last_valuation"]) == ("3.00000000", "30.00")


def test_negative_zero_is_stored_and_echoed_as_zero(user):
    holding = portfolio.holding_create(
        user=user, asset_type="stock", identifier="AAPL", units=Decimal("-0"), cost_basis=Decimal("-0.00")
    )
    portfolio.holding_revalue(holding=holding, price=Decimal("-0"))
    holding.refresh_from_db()
    output = portfolio.holding_output(holding)
    assert (output["units"], output["cost_basis"], output["last_price"], output["last_valuation"]) == (
        "0.00000000",
        "0.00",
        "0.00000000",
        "0.00",
    )


def test_cash_is_held_in_its_own_currency(user):
    with pytest.raises(Invalid) as refused:
        portfolio.holding_create(
            user=user, asset_type="cash", identifier="eur", currency="USD", units=Decimal("5"), cost_basis=Decimal("5")
        )
    assert refused.value.attr == "currency"
    other = portfolio.holding_create(
        user=user, asset_type="other", identifier="GBP", currency="USD", units=Decimal("5"), cost_basis=Decimal("5")
    )
    portfolio.holding_update(holding=other, asset_type="cash")
    other.refresh_from_db()
    assert (other.asset_type, other.identifier, other.currency) == ("cash", "GBP", "GBP")
    with pytest.raises(Invalid):
        portfolio.holding_update(holding=other, currency="USD")


@pytest.mark.parametrize("first,second", [("US0378331005", "037833100"), ("037833100", "US0378331005")])
def test_a_bonds_isin_and_cusip_are_the_same_holding(user, first, second):
    held = portfolio.holding_create(
        user=user, asset_type="bond", identifier=first, units=Decimal("1"), cost_basis=Decimal("100")
    )
    with pytest.raises(Conflict) as duplicate:
        portfolio.holding_create(
            user=user, asset_type="bond", identifier=second, units=Decimal("1"), cost_basis=Decimal("100")
        )
    assert duplicate.value.extra["existing_id"] == str(held.id)
