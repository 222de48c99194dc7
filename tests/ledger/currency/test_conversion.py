"""amount_base on every write path: the ECB rate of the date, the closest
earlier date within 7 days, cross rates through EUR, half-up cents, NULL
(never 1) without a rate, and the backfill when rates arrive later. Every
expected figure is worked out by hand in the comments (rates in conftest)."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from ledger.currency import services
from ledger.currency.services import BulkConverter, Rate
from ledger.models import ExchangeRate, Transaction
from tests.accounts.factories import UserFactory
from tests.ledger.factories import AccountFactory, TransactionFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def _row(user, currency, amount, day):
    tx = TransactionFactory(user=user, currency=currency, amount=Decimal(amount), date=day)
    stored = Transaction.objects.get(pk=tx.pk)
    # What INSERT ... RETURNING gave the instance is what the table holds.
    assert (tx.amount_base, tx.base_currency, tx.rate_date) == (
        stored.amount_base,
        stored.base_currency,
        stored.rate_date,
    )
    return stored


def test_conversion_uses_the_rate_of_the_date(rates):
    usd_user = UserFactory(base_currency="USD")
    # 100.00 EUR x 1.08 = 108.00; the next day x 1.09 = 109.00.
    monday = _row(usd_user, "EUR", "100.00", D(2026, 3, 2))
    assert (monday.amount_base, monday.base_currency, monday.rate_date) == (Decimal("108.00"), "USD", D(2026, 3, 2))
    assert _row(usd_user, "EUR", "100.00", D(2026, 3, 3)).amount_base == Decimal("109.00")
    # Cross rate through EUR: 1.08 / 0.85 = 1.27058823529... -> 1.2705882353;
    # 10.01 GBP x 1.2705882353 = 12.71858823535... -> 12.72 USD.
    assert _row(usd_user, "GBP", "10.01", D(2026, 3, 2)).amount_base == Decimal("12.72")
    # Half up, away from zero: 0.50 x 1.09 = 0.545 -> 0.55 (not the banker's 0.54); -0.545 -> -0.55.
    assert _row(usd_user, "EUR", "0.50", D(2026, 3, 3)).amount_base == Decimal("0.55")
    assert _row(usd_user, "EUR", "-0.50", D(2026, 3, 3)).amount_base == Decimal("-0.55")
    # Already in the base currency: copied, no rate involved.
    same = _row(usd_user, "USD", "7.77", D(2030, 1, 1))
    assert (same.amount_base, same.rate_date) == (Decimal("7.77"), None)

    eur_user = UserFactory(base_currency="EUR")
    # To EUR: 1 / 1.08 = 0.925925925925... -> 0.9259259259; 54.00 x that = 49.9999999986 -> 50.00.
    assert _row(eur_user, "USD", "54.00", D(2026, 3, 2)).amount_base == Decimal("50.00")


def test_fallback_is_the_closest_earlier_date_within_seven_days(rates):
    user = UserFactory(base_currency="USD")
    # 2026-03-10: the latest USD rate is 2026-03-04 (6 days before): 100 x 1.10 = 110.00.
    later = _row(user, "EUR", "100.00", D(2026, 3, 10))
    assert (later.amount_base, later.rate_date) == (Decimal("110.00"), D(2026, 3, 4))
    # 2026-03-11 is 7 days after 03-04: still converted. 2026-03-12 is 8: no rate.
    assert _row(user, "EUR", "100.00", D(2026, 3, 11)).rate_date == D(2026, 3, 4)
    missing = _row(user, "EUR", "100.00", D(2026, 3, 12))
    assert (missing.amount_base, missing.rate_date, missing.base_currency) == (None, None, "USD")
    # Before the first rate: none either (never a rate of 1).
    assert _row(user, "EUR", "100.00", D(2026, 3, 1)).amount_base is None
    # A cross rate needs both currencies on the same day: 03-04 has USD but no GBP,
    # so GBP on 03-04 uses 03-03: 1.09 / 0.86 = 1.2674418604651... -> 1.2674418605;
    # 10.00 GBP -> 12.674418605 -> 12.67 USD.
    cross = _row(user, "GBP", "10.00", D(2026, 3, 4))
    assert (cross.amount_base, cross.rate_date) == (Decimal("12.67"), D(2026, 3, 3))


def test_rates_loaded_later_fill_in_the_affected_rows_only(rates):
    user = UserFactory(base_currency="USD")
    waiting = _row(user, "EUR", "100.00", D(2026, 3, 20))
    gbp_waiting = _row(user, "GBP", "10.00", D(2026, 3, 20))
    far = _row(user, "EUR", "100.00", D(2026, 5, 1))
    assert waiting.amount_base is None and gbp_waiting.amount_base is None

    # A USD rate on 03-19 converts the EUR row (100 x 1.20 = 120.00); the GBP row
    # needs a GBP rate the same day, so it stays NULL; May is out of reach.
    result = services.rates_store([Rate("USD", D(2026, 3, 19), Decimal("1.2"))], source=ExchangeRate.Source.ADMIN)

    assert result["inserted"] == 1
    # Of the rows dated 03-19..03-26 in or to USD, only the EUR row's figure changed.
    assert result["reconverted"] == 1
    waiting.refresh_from_db()
    gbp_waiting.refresh_from_db()
    far.refresh_from_db()
    assert (waiting.amount_base, waiting.rate_date) == (Decimal("120.00"), D(2026, 3, 19))
    assert gbp_waiting.amount_base is None
    assert far.amount_base is None

    # The GBP rate arrives: 1.20 / 0.80 = 1.5; 10.00 GBP -> 15.00 USD.
    services.rates_store([Rate("GBP", D(2026, 3, 19), Decimal("0.8"))], source=ExchangeRate.Source.ADMIN)
    gbp_waiting.refresh_from_db()
    assert gbp_waiting.amount_base == Decimal("15.00")
    # Loading the same rates again stores and recomputes nothing.
    again = services.rates_store([Rate("USD", D(2026, 3, 19), Decimal("9"))], source=ExchangeRate.Source.ADMIN)
    assert (again["inserted"], again["reconverted"]) == (0, 0)
    assert ExchangeRate.objects.get(currency="USD", date=D(2026, 3, 19)).rate == Decimal("1.2")


def test_a_corrected_rate_reconverts_its_rows(rates):
    user = UserFactory(base_currency="USD")
    row = _row(user, "EUR", "100.00", D(2026, 3, 3))
    assert row.amount_base == Decimal("109.00")
    services.rate_put(currency="USD", date=D(2026, 3, 3), rate=Decimal("1.095"))
    row.refresh_from_db()
    assert row.amount_base == Decimal("109.50")  # 100 x 1.095
    services.rate_delete(rate=ExchangeRate.objects.get(currency="USD", date=D(2026, 3, 3)))
    row.refresh_from_db()
    assert (row.amount_base, row.rate_date) == (Decimal("108.00"), D(2026, 3, 2))  # back to Monday's 1.08


def test_bulk_converter_agrees_with_the_database_on_every_case(rates):
    user = UserFactory(base_currency="USD")
    days = [D(2026, 3, 1) + datetime.timedelta(days=n) for n in range(14)]
    amounts = ["0.50", "-0.50", "10.01", "12345.67", "-3.33", "0.01"]
    for currency in ("EUR", "GBP", "JPY"):
        converter = BulkConverter(from_currency=currency, to_currency="USD", dates=days)
        for day in days:
            for amount in amounts:
                stored = _row(user, currency, amount, day)
                assert converter.convert(Decimal(amount), day) == (stored.amount_base, stored.rate_date), (
                    currency,
                    day,
                    amount,
                )


def test_api_create_and_update_write_amount_base(rates, auth_client, user):
    user.base_currency = "USD"
    user.save(update_fields=["base_currency"])
    euro = AccountFactory(user=user, currency="EUR", name="Euro card")
    created = auth_client.post(
        "/api/v1/transactions",
        {"amount": "100.00", "date": "2026-03-02", "merchant_raw": "Lidl", "account": str(euro.id)},
        format="json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["amount_base"], body["base_currency"], body["rate_date"]) == ("108.00", "USD", "2026-03-02")

    edited = auth_client.patch(f"/api/v1/transactions/{body['id']}", {"date": "2026-03-03"}, format="json")
    assert edited.status_code == 200, edited.json()
    assert edited.json()["amount_base"] == "109.00"
    edited = auth_client.patch(f"/api/v1/transactions/{body['id']}", {"amount": "200.00"}, format="json")
    assert edited.json()["amount_base"] == "218.00"
    assert Transaction.objects.get(pk=body["id"]).amount_base == Decimal("218.00")


def test_import_commit_converts_each_row_at_its_date(rates, auth_client, user):
    user.base_currency = "USD"
    user.save(update_fields=["base_currency"])
    euro = AccountFactory(user=user, currency="EUR", name="Girokonto")
    content = b"date,amount,merchant\n2026-03-02,100.00,Rewe\n2026-03-10,-0.50,Refund\n2026-03-30,5.00,Late\n"
    preview = auth_client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("euro.csv", content), "account": str(euro.id)},
        format="multipart",
    )
    assert preview.status_code == 201, preview.json()
    committed = auth_client.post(f"/api/v1/imports/{preview.json()['id']}/commit", {}, format="json")
    assert committed.status_code == 200, committed.json()
    rows = {
        tx.merchant_raw: (tx.amount_base, tx.base_currency, tx.rate_date)
        for tx in Transaction.objects.filter(account=euro)
    }
    assert rows == {
        # The file's signs are the bank's (plus is money in): stored as -100.00 and 0.50.
        "Rewe": (Decimal("-108.00"), "USD", D(2026, 3, 2)),  # -100 x 1.08
        "Refund": (Decimal("0.55"), "USD", D(2026, 3, 4)),  # 0.50 x 1.10 = 0.55, 6 days back
        "Late": (None, "USD", None),  # 26 days after the last rate: none
    }
    # Later inserts in the same connection convert through the trigger again.
    assert _row(user, "EUR", "1.00", D(2026, 3, 2)).amount_base == Decimal("1.08")
