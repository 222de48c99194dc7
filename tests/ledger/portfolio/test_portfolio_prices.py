"""Price sources, the ledger.refresh_portfolio_valuations task, its schedule row and the holdings admin."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django_celery_beat.models import PeriodicTask

from ledger.models import PortfolioHolding
from ledger.portfolio import services as portfolio
from ledger.portfolio.prices import Instrument, ManualPriceSource, Quote, StaticPriceSource, price_source_load
from ledger.tasks import refresh_portfolio_valuations
from realtime.models import Notification
from tests.accounts.factories import UserFactory
from tests.ledger.factories import PortfolioHoldingFactory
from workers.routing import TASK_ROUTES

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 15, 12, 0, tzinfo=datetime.UTC)
MARKET_CLOSE = "2026-03-14T21:00:00Z"


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def static_prices(settings):
    settings.PORTFOLIO_PRICE_SOURCE = "ledger.portfolio.prices.StaticPriceSource"
    settings.PORTFOLIO_STATIC_PRICES = {
        "stock:AAPL": {"price": "190.125", "as_of": MARKET_CLOSE},
        "crypto:BTC:USD": "64000.5",
        "crypto:BTC:EUR": "59000",
    }
    return settings.PORTFOLIO_STATIC_PRICES


def test_refresh_task_revalues_quoted_holdings_and_notifies_each(user, other_user, static_prices, celery_eager):
    mine = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("10"), cost_basis=Decimal("1500"))
    theirs = PortfolioHoldingFactory(user=other_user, identifier="AAPL", units=Decimal("1"))
    btc = PortfolioHoldingFactory(user=user, asset_type="crypto", identifier="BTC", units=Decimal("0.5"))
    btc_eur = PortfolioHoldingFactory(
        user=other_user, asset_type="crypto", identifier="BTC", currency="EUR", units=Decimal("2")
    )
    unquoted = PortfolioHoldingFactory(user=user, identifier="NVDA")

    result = refresh_portfolio_valuations.delay()

    assert result.successful(), result.traceback
    assert result.get() == {
        "source": "static",
        "instruments": 4,
        "quoted": 3,
        "updated": 4,
        "unchanged": 0,
        "skipped": 0,
    }
    values = {
        h.pk: (h.last_price, h.last_valuation, h.valued_at, h.price_source) for h in PortfolioHolding.objects.all()
    }
    close = datetime.datetime(2026, 3, 14, 21, 0, tzinfo=datetime.UTC)
    assert values == {
        mine.pk: (Decimal("190.125"), Decimal("1901.25"), close, "static"),
        theirs.pk: (Decimal("190.125"), Decimal("190.13"), close, "static"),
        btc.pk: (Decimal("64000.5"), Decimal("32000.25"), NOW, "static"),
        btc_eur.pk: (Decimal("59000"), Decimal("118000.00"), NOW, "static"),
        unquoted.pk: (None, None, None, ""),
    }
    events = Notification.objects.filter(type="portfolio_update")
    assert sorted((e.user_id, e.data["holding"]["id"]) for e in events) == sorted(
        [
            (user.pk, str(mine.id)),
            (other_user.pk, str(theirs.id)),
            (user.pk, str(btc.id)),
            (other_user.pk, str(btc_eur.id)),
        ]
    )
    assert events.get(data__holding__id=str(mine.id)).data["holding"]["unrealised_gain"] == "401.25"


def test_refresh_task_run_twice_changes_nothing_the_second_time(user, static_prices, celery_eager):
    PortfolioHoldingFactory(user=user, identifier="AAPL")
    PortfolioHoldingFactory(user=user, asset_type="crypto", identifier="BTC")
    refresh_portfolio_valuations.delay()

    second = refresh_portfolio_valuations.delay().get()

    assert (second["updated"], second["unchanged"]) == (0, 2)
    assert Notification.objects.filter(type="portfolio_update").count() == 2


def test_an_undated_quote_run_again_minutes_later_changes_nothing(user, static_prices, time_machine):
    """The clock moves between runs (a retry, the admin action after the
    hourly run): an undated quote repeating the price is still a no-op, and
    an hour later it renews valued_at so the holding does not go stale."""
    btc = PortfolioHoldingFactory(user=user, asset_type="crypto", identifier="BTC")
    portfolio.holdings_refresh_prices()
    time_machine.move_to(NOW + datetime.timedelta(minutes=10), tick=False)

    again = portfolio.holdings_refresh_prices()

    assert (again["updated"], again["unchanged"]) == (0, 1)
    assert Notification.objects.filter(type="portfolio_update").count() == 1
    time_machine.move_to(NOW + datetime.timedelta(hours=1), tick=False)
    assert portfolio.holdings_refresh_prices(now=NOW + datetime.timedelta(hours=1))["updated"] == 1
    btc.refresh_from_db()
    assert btc.valued_at == NOW + datetime.timedelta(hours=1)


def test_a_holding_edited_to_another_asset_mid_refresh_keeps_its_own_price(user, static_prices, monkeypatch):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("1"))
    original = portfolio._refresh_one

    def edit_first(holding_id, instrument, **kwargs):
        # The user renames the holding after the ids were read, before it is locked.
        PortfolioHolding.objects.filter(pk=holding_id).update(identifier="MSFT")
        return original(holding_id, instrument, **kwargs)

    monkeypatch.setattr(portfolio, "_refresh_one", edit_first)
    summary = portfolio.holdings_refresh_prices()

    holding.refresh_from_db()
    assert (holding.identifier, holding.last_price) == ("MSFT", None)
    assert summary["skipped"] == 1
    assert not Notification.objects.filter(type="portfolio_update").exists()


def test_refresh_keeps_a_newer_manual_valuation(user, static_prices):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL")
    portfolio.holding_revalue(holding=holding, price=Decimal("200"), source="manual", now=NOW)

    summary = portfolio.holdings_refresh_prices()

    holding.refresh_from_db()
    assert (summary["quoted"], summary["skipped"], summary["updated"]) == (1, 1, 0)
    assert (holding.last_price, holding.price_source) == (Decimal("200"), "manual")


def test_refresh_rounds_a_finer_quote_to_the_columns_eight_places(user, settings):
    settings.PORTFOLIO_PRICE_SOURCE = "ledger.portfolio.prices.StaticPriceSource"
    settings.PORTFOLIO_STATIC_PRICES = {"crypto:SHIB": "0.0000123456789"}
    holding = PortfolioHoldingFactory(user=user, asset_type="crypto", identifier="SHIB", units=Decimal("1000000"))

    portfolio.holdings_refresh_prices()

    holding.refresh_from_db()
    assert (holding.last_price, holding.last_valuation) == (Decimal("0.00001235"), Decimal("12.35"))


def test_refresh_only_the_given_holdings(user, static_prices):
    picked = PortfolioHoldingFactory(user=user, identifier="AAPL")
    left = PortfolioHoldingFactory(user=UserFactory(), identifier="AAPL")

    summary = portfolio.holdings_refresh_prices(holding_ids=[picked.pk])

    assert summary["updated"] == 1
    left.refresh_from_db()
    assert left.valued_at is None


def test_default_manual_source_makes_the_task_a_no_op(user, celery_eager):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL")

    summary = refresh_portfolio_valuations.delay().get()

    assert summary == {"source": "manual", "instruments": 1, "quoted": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    holding.refresh_from_db()
    assert holding.valued_at is None
    assert not Notification.objects.exists()


def test_price_source_is_loaded_from_the_setting(settings):
    settings.PORTFOLIO_PRICE_SOURCE = "ledger.portfolio.prices.StaticPriceSource"
    assert isinstance(price_source_load(), StaticPriceSource)
    assert isinstance(price_source_load("ledger.portfolio.prices.ManualPriceSource"), ManualPriceSource)
    with pytest.raises(ImproperlyConfigured):
        price_source_load("ledger.portfolio.prices.NoSuchSource")
    with pytest.raises(ImproperlyConfigured):
        price_source_load("decimal.Decimal")  # no prices()


def test_static_source_prefers_the_currency_specific_price():
    source = StaticPriceSource({"etf:VWRL.L": "100", "etf:VWRL.L:USD": "120.5"})
    gbp, usd, other = (
        Instrument("etf", "VWRL.L", "GBP"),
        Instrument("etf", "VWRL.L", "USD"),
        Instrument("etf", "X", "USD"),
    )

    quotes = source.prices([gbp, usd, other])

    assert quotes == {gbp: Quote(price=Decimal("100")), usd: Quote(price=Decimal("120.5"))}


def test_quote_refuses_floats_naive_times_and_negative_prices():
    with pytest.raises(TypeError):
        Quote(price=190.12)
    with pytest.raises(ValueError):
        Quote(price="190.12", as_of=datetime.datetime(2026, 3, 15, 12))
    with pytest.raises(ValueError):
        Quote(price="-1")
    assert Quote(price="190.12").price == Decimal("190.12")


def test_refresh_task_is_routed_to_scheduled_and_has_an_hourly_schedule_row():
    row = PeriodicTask.objects.get(task="ledger.refresh_portfolio_valuations")

    assert TASK_ROUTES["ledger.refresh_portfolio_valuations"] == {"queue": "scheduled"}
    assert (row.name, row.enabled, row.crontab.minute, row.crontab.hour) == (
        "Portfolio valuation refresh",
        True,
        "5",
        "*",
    )


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


ADMIN_URL = "/admin/ledger/portfolioholding/"


def test_admin_lists_and_searches_holdings(admin_client, user):
    PortfolioHoldingFactory(user=user, identifier="AAPL")
    PortfolioHoldingFactory(user=user, identifier="MSFT")

    response = admin_client.get(ADMIN_URL, {"q": "aap"})

    assert response.status_code == 200
    assert [h.identifier for h in response.context["cl"].result_list] == ["AAPL"]


def test_admin_add_goes_through_the_identifier_rules(admin_client, user):
    fields = {"user": user.pk, "asset_type": "stock", "name": "", "currency": "usd", "units": "1", "cost_basis": "2"}

    bad = admin_client.post(ADMIN_URL + "add/", {**fields, "identifier": "AAPL!"})
    good = admin_client.post(ADMIN_URL + "add/", {**fields, "identifier": " aapl "})
    duplicate = admin_client.post(ADMIN_URL + "add/", {**fields, "identifier": "AAPL"})

    assert bad.status_code == 200 and "identifier" in bad.context["adminform"].form.errors
    assert good.status_code == 302, good.content
    assert duplicate.status_code == 200
    assert "You already hold AAPL" in str(duplicate.context["adminform"].form.non_field_errors())
    assert list(PortfolioHolding.objects.values_list("identifier", "currency")) == [("AAPL", "USD")]


def test_admin_change_reapplies_the_last_price(admin_client, user):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("10"))
    portfolio.holding_revalue(holding=holding, price=Decimal("2.5"), source="manual", now=NOW)
    fields = {"asset_type": "stock", "identifier": "AAPL", "name": "", "currency": "USD", "cost_basis": "1000.00"}

    response = admin_client.post(f"{ADMIN_URL}{holding.pk}/change/", {**fields, "units": "4"})

    assert response.status_code == 302, response.content
    holding.refresh_from_db()
    assert (holding.units, holding.last_valuation) == (Decimal("4"), Decimal("10.00"))


def test_admin_change_whose_units_overflow_the_valuation_is_a_form_error(admin_client, user):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL", units=Decimal("10"))
    portfolio.holding_revalue(holding=holding, price=Decimal("1000"), source="manual", now=NOW)
    fields = {"asset_type": "stock", "identifier": "AAPL", "name": "", "currency": "USD", "cost_basis": "1000.00"}

    response = admin_client.post(f"{ADMIN_URL}{holding.pk}/change/", {**fields, "units": "100000000"})

    assert response.status_code == 200  # the form again, with the error
    assert "9,999,999,999.99" in response.content.decode()
    holding.refresh_from_db()
    assert holding.units == Decimal("10")


def test_admin_refresh_action_calls_the_price_source(admin_client, user, static_prices):
    holding = PortfolioHoldingFactory(user=user, identifier="AAPL")

    response = admin_client.post(
        ADMIN_URL, {"action": "refresh_valuations", "_selected_action": [str(holding.pk)]}, follow=True
    )

    assert response.status_code == 200
    holding.refresh_from_db()
    assert (holding.last_price, holding.price_source) == (Decimal("190.125"), "static")
    assert "1 holding(s) revalued" in response.content.decode()
