"""Rates in and out: load_rates (the packaged ECB history, idempotent), the
daily refresh through a RateSource, GET currencies and rates, staff POST,
admin; bad codes and implausible rates are 400s / form errors."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client

from ledger.currency import services
from ledger.currency.sources import ecb_xml_parse
from ledger.currency.tasks import refresh_exchange_rates
from ledger.models import ExchangeRate, Transaction
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def test_load_rates_loads_the_packaged_history_once(capsys):
    call_command("load_rates")
    loaded = ExchangeRate.objects.count()
    # Active ISO codes only (DEM, TRL, CYP... are gone), 1999 onwards.
    assert loaded > 190_000
    assert ExchangeRate.objects.filter(currency="TRL").count() == 0
    assert ExchangeRate.objects.order_by("date").first().date == D(1999, 1, 4)
    usd = ExchangeRate.objects.get(currency="USD", date=D(2026, 10, 30))
    assert (usd.rate, usd.source) == (Decimal("1.117200"), "ecb_history")
    assert ExchangeRate.objects.get(currency="GBP", date=D(2026, 10, 29)).rate == Decimal("0.835780")

    call_command("load_rates")
    assert ExchangeRate.objects.count() == loaded
    assert "0 of" in capsys.readouterr().out
    call_command("load_rates", "--if-empty")
    assert "already loaded" in capsys.readouterr().out


def test_load_rates_from_a_file_skips_gaps_and_retired_codes_and_backfills(tmp_path):
    user = UserFactory(base_currency="USD")
    row = TransactionFactory(user=user, currency="EUR", amount=Decimal("10.00"), date=D(2025, 1, 3))
    assert Transaction.objects.get(pk=row.pk).amount_base is None
    history = tmp_path / "hist.csv"
    history.write_text("Date,USD,DEM,GBP,\n2025-01-02,1.0352,1.9558,N/A,\n2025-01-01,N/A,N/A,N/A,\n")

    call_command("load_rates", "--file", str(history))

    assert list(ExchangeRate.objects.values_list("currency", "date", "rate")) == [
        ("USD", D(2025, 1, 2), Decimal("1.035200"))
    ]
    # 10.00 EUR x 1.0352 = 10.352 -> 10.35 USD, the day before's rate.
    assert Transaction.objects.values_list("amount_base", "rate_date").get(pk=row.pk) == (
        Decimal("10.35"),
        D(2025, 1, 2),
    )


ECB_DAILY = b"""<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
 xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
<gesmes:subject>Reference rates</gesmes:subject>
<Cube><Cube time="2026-11-27"><Cube currency="USD" rate="1.1190"/><Cube currency="JPY" rate="176.12"/>
<Cube currency="GBP" rate="0.8351"/></Cube></Cube></gesmes:Envelope>"""


def test_ecb_daily_xml_is_parsed_into_rates():
    rates = ecb_xml_parse(ECB_DAILY)
    assert [(r.currency, r.date, r.rate) for r in rates] == [
        ("USD", D(2026, 11, 27), Decimal("1.1190")),
        ("JPY", D(2026, 11, 27), Decimal("176.12")),
        ("GBP", D(2026, 11, 27), Decimal("0.8351")),
    ]
    with pytest.raises(ValueError):
        ecb_xml_parse(b"<html>maintenance</html")


def test_the_daily_task_stores_the_sources_rates_and_converts_waiting_rows(settings):
    settings.EXCHANGE_RATE_SOURCE = "ledger.currency.sources.StaticRateSource"
    # A zero and an absurd rate from the provider are dropped, the rest stored.
    settings.EXCHANGE_RATE_STATIC = {"2026-11-27": {"USD": "1.1190", "GBP": "0", "JPY": "2000000"}}
    user = UserFactory(base_currency="USD")
    row = TransactionFactory(user=user, currency="EUR", amount=Decimal("20.00"), date=D(2026, 11, 28))

    result = refresh_exchange_rates.apply().get()

    assert (result["source"], result["inserted"], result["reconverted"]) == ("static", 1, 1)
    assert list(ExchangeRate.objects.values_list("currency", "rate")) == [("USD", Decimal("1.119000"))]
    # 20.00 x 1.119 = 22.38
    assert Transaction.objects.get(pk=row.pk).amount_base == Decimal("22.38")


@pytest.fixture
def some_rates(db):
    services.rates_store(
        [
            services.Rate("USD", D(2026, 3, 2), Decimal("1.08")),
            services.Rate("GBP", D(2026, 3, 2), Decimal("0.85")),
            services.Rate("USD", D(2026, 3, 3), Decimal("1.09")),
        ],
        source="ecb_history",
    )


def test_get_rates_of_a_date_with_fallback_and_a_currency_filter(auth_client, some_rates):
    response = auth_client.get("/api/v1/rates", {"date": "2026-03-08"})
    assert response.status_code == 200
    assert response.json() == {
        "date": "2026-03-08",
        "base": "EUR",
        "rates": [
            {"currency": "GBP", "rate": "0.850000", "date": "2026-03-02", "source": "ecb_history"},
            {"currency": "USD", "rate": "1.090000", "date": "2026-03-03", "source": "ecb_history"},
        ],
    }
    only = auth_client.get("/api/v1/rates", {"date": "2026-03-02", "currency": "usd"}).json()
    assert only["rates"] == [{"currency": "USD", "rate": "1.080000", "date": "2026-03-02", "source": "ecb_history"}]
    assert auth_client.get("/api/v1/rates", {"date": "2026-03-20"}).json()["rates"] == []


def test_unknown_codes_and_bad_dates_are_400(auth_client):
    for query in ({"currency": "XYZ"}, {"currency": "EURO"}, {"date": "2026-13-01"}, {"date": "2999-01-01"}):
        response = auth_client.get("/api/v1/rates", query)
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["attr"] in {"currency", "date"}


def test_get_currencies_lists_iso_codes_with_their_coverage(auth_client, some_rates):
    body = auth_client.get("/api/v1/currencies").json()
    by_code = {c["code"]: c for c in body}
    assert by_code["USD"] == {
        "code": "USD",
        "name": "US Dollar",
        "has_rates": True,
        "rates_from": "2026-03-02",
        "rates_until": "2026-03-03",
    }
    assert by_code["EUR"]["has_rates"] is True
    assert by_code["KES"]["has_rates"] is False
    assert "XYZ" not in by_code


def test_staff_post_a_rate_and_implausible_ones_are_refused(auth_client, staff_client, some_rates):
    body = {"currency": "USD", "date": "2026-03-02", "rate": "1.1"}
    assert auth_client.post("/api/v1/rates", body, format="json").status_code == 403
    for rate, code in (("0", "rate_not_positive"), ("-1.2", "rate_not_positive"), ("1000000.5", "rate_implausible")):
        response = staff_client.post("/api/v1/rates", {**body, "rate": rate}, format="json")
        assert (response.status_code, response.json()["errors"][0]["code"]) == (400, code)
    assert staff_client.post("/api/v1/rates", {**body, "currency": "XYZ"}, format="json").status_code == 400
    assert ExchangeRate.objects.get(currency="USD", date=D(2026, 3, 2)).rate == Decimal("1.080000")

    stored = staff_client.post("/api/v1/rates", body, format="json")
    assert stored.status_code == 201
    assert stored.json() == {"currency": "USD", "rate": "1.100000", "date": "2026-03-02", "source": "admin"}


@pytest.fixture
def admin_client():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_refuses_implausible_rates_and_a_correction_reconverts(admin_client, some_rates):
    user = UserFactory(base_currency="USD")
    row = TransactionFactory(user=user, currency="EUR", amount=Decimal("100.00"), date=D(2026, 3, 2))
    for rate in ("0", "-1", "1000001"):
        response = admin_client.post(
            "/admin/ledger/exchangerate/add/",
            {"currency": "JPY", "date": "2026-03-02", "rate": rate, "source": "admin"},
        )
        assert response.status_code == 200 and response.context["adminform"].form.errors, rate
    assert not ExchangeRate.objects.filter(currency="JPY").exists()

    usd = ExchangeRate.objects.get(currency="USD", date=D(2026, 3, 2))
    response = admin_client.post(
        f"/admin/ledger/exchangerate/{usd.pk}/change/",
        {"currency": "USD", "date": "2026-03-02", "rate": "1.125", "source": "admin"},
    )
    assert response.status_code == 302
    # 100 x 1.125 = 112.50
    assert Transaction.objects.get(pk=row.pk).amount_base == Decimal("112.50")


def test_admin_add_transaction_is_converted(admin_client, some_rates):
    user = UserFactory(base_currency="USD")
    response = admin_client.post(
        "/admin/ledger/transaction/add/",
        {
            "user": user.pk,
            "amount": "50.00",
            "currency": "EUR",
            "date": "2026-03-03",
            "merchant_raw": "Admin entry",
            "category": "",
            "notes": "",
            "source": "manual",
            "external_id": "",
            "changes-TOTAL_FORMS": "0",
            "changes-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    # 50 x 1.09 = 54.50
    assert Transaction.objects.get(merchant_raw="Admin entry").amount_base == Decimal("54.50")
