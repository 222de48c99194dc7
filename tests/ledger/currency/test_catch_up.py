"""The packaged ECB history ends 2026-10-30: days after it follow the
contract (the closest earlier rate within 7 days, else amount_base null and
listed as unconverted) until an operator loads the ECB 90-day XML from a
file or URL (load_rates or the refresh task), which fills them in.

The fixture is ECB's documented eurofxref-hist-90d.xml layout (gesmes
envelope, one Cube per business day newest first, Cubes of currency and
rate per 1 EUR) with invented figures."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ledger.currency import services
from ledger.currency.selectors import unconverted
from ledger.currency.sources import EcbXmlSource
from ledger.currency.tasks import refresh_exchange_rates
from ledger.models import ExchangeRate, Transaction
from tests.accounts.factories import UserFactory
from tests.ledger.factories import TransactionFactory

D = datetime.date
NINETY_DAYS = Path(__file__).parent / "fixtures" / "eurofxref-hist-90d.xml"
pytestmark = pytest.mark.django_db


@pytest.fixture
def history_end(db):
    """The last packaged day's USD rate, as load_rates stores it."""
    services.rates_store([services.Rate("USD", D(2026, 10, 30), Decimal("1.1172"))], source="ecb_history")


@pytest.fixture
def rows(history_end):
    user = UserFactory(base_currency="USD")

    def row(day, amount):
        return TransactionFactory(user=user, currency="EUR", amount=Decimal(amount), date=day)

    return {
        "nov4": row(D(2026, 11, 4), "100.00"),  # 5 days after the last rate
        "nov20": row(D(2026, 11, 20), "50.00"),  # 21 days after: no rate
        "nov29": row(D(2026, 11, 29), "10.00"),  # a Sunday
    }


def converted(row):
    return Transaction.objects.values_list("amount_base", "rate_date").get(pk=row.pk)


def test_after_the_history_the_last_rate_serves_seven_days_then_rows_wait_and_are_listed(rows):
    # 100.00 EUR x 1.1172 = 111.72 USD at the 2026-10-30 rate.
    assert converted(rows["nov4"]) == (Decimal("111.72"), D(2026, 10, 30))
    assert converted(rows["nov20"]) == (None, None)
    assert converted(rows["nov29"]) == (None, None)
    assert unconverted(Transaction.objects.all(), base_currency="USD") == [
        {"currency": "EUR", "count": 2, "amount": Decimal("60.00")}
    ]


def test_load_rates_from_the_90_day_xml_file_fills_in_the_waiting_rows(rows, capsys):
    call_command("load_rates", "--file", str(NINETY_DAYS))

    # 27 business days x 3 currencies; the stored 2026-10-30 USD rate is kept.
    assert "80 of 81 rates stored" in capsys.readouterr().out
    assert ExchangeRate.objects.get(currency="USD", date=D(2026, 10, 30)).rate == Decimal("1.117200")
    assert ExchangeRate.objects.get(currency="GBP", date=D(2026, 12, 1)).source == "ecb_daily"
    # 100.00 x 1.1009 = 110.09 (its own day now); 50.00 x 1.1025 = 55.125 -> 55.13 (half up);
    # Sunday the 29th takes Friday the 27th: 10.00 x 1.1032 = 11.032 -> 11.03.
    assert converted(rows["nov4"]) == (Decimal("110.09"), D(2026, 11, 4))
    assert converted(rows["nov20"]) == (Decimal("55.13"), D(2026, 11, 20))
    assert converted(rows["nov29"]) == (Decimal("11.03"), D(2026, 11, 27))
    assert unconverted(Transaction.objects.all(), base_currency="USD") == []

    call_command("load_rates", "--file", str(NINETY_DAYS))
    assert "0 of 81 rates stored, 0 transactions reconverted" in capsys.readouterr().out


def test_the_refresh_task_takes_a_file_url_and_the_default_source_a_path(rows, settings, tmp_path):
    result = refresh_exchange_rates.apply(args=[NINETY_DAYS.as_uri()]).get()
    assert (result["source"], result["inserted"], result["reconverted"]) == ("ecb_xml", 80, 3)

    # The daily source pointed at a file an operator dropped in (no network).
    daily = tmp_path / "eurofxref-daily.xml"
    daily.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"'
        ' xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref"><Cube><Cube time="2026-12-02">'
        '<Cube currency="USD" rate="1.1040"/><Cube currency="DEM" rate="1.9558"/><Cube currency="JPY" rate="0"/>'
        "</Cube></Cube></gesmes:Envelope>"
    )
    settings.EXCHANGE_RATE_SOURCE = "ledger.currency.sources.EcbDailySource"
    settings.EXCHANGE_RATE_ECB_URL = str(daily)
    result = refresh_exchange_rates.apply().get()
    # A retired code and a zero rate are dropped; the USD rate is stored.
    assert (result["source"], result["received"], result["inserted"]) == ("ecb", 1, 1)


def test_a_missing_or_foreign_file_is_an_error_and_stores_nothing(tmp_path, history_end):
    with pytest.raises(CommandError):
        call_command("load_rates", "--file", str(tmp_path / "missing.xml"))
    page = tmp_path / "page.xml"
    page.write_text("<html>maintenance</html")
    with pytest.raises(CommandError):
        call_command("load_rates", "--file", str(page))
    with pytest.raises(ValueError):
        EcbXmlSource(page.as_uri()).rates()
    assert ExchangeRate.objects.count() == 1
