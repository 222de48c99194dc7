"""Preview: an uploaded statement parsed into ImportRows with their fates,
nothing written to the ledger. Duplicates are decided in SQL against the
account (again at commit, since the ledger may have moved meanwhile)."""

import datetime
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal

import orjson
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Count, Min, Sum
from django.utils import timezone

from config.exceptions import Invalid, PayloadTooLarge
from config.ids import ordered_ids
from config.sql import with_planner_settings
from ledger.books.guards import account_check_open, account_reconciled_through
from ledger.books.selectors import account_get
from ledger.imports import parsers
from ledger.imports.profiles import import_profile_resolve, profile_for_parser, profile_overrides
from ledger.models import Import, ImportProfile, ImportRow, Transaction
from merchants.services import normalize_merchant_text

PREVIEW_TTL = datetime.timedelta(days=1)
ROW_BATCH = 5000
NORMALIZED_CACHE = 50_000  # distinct payee texts; a statement repeats a few hundred merchants
Fate = ImportRow.Fate


def _setting(name: str, default):
    return getattr(settings, name, default)


def file_error(exc: parsers.ImportFileError) -> Invalid:
    detail = f"{exc.message} {exc.hint}".strip() if exc.hint else exc.message
    return Invalid(detail, code=exc.code, attr="file", hint=exc.hint)


def _row_data(row: parsers.ParsedRow) -> dict:
    data = {
        "date": row.date.isoformat(),
        "amount": f"{row.amount:.2f}",
        "payee": row.payee,
        "description": row.description,
        "notes": row.notes,
        "bank_category": row.bank_category,
        "category": row.category,
        "currency": row.currency,
        "external_id": row.external_id,
        "balance": None if row.balance is None else f"{row.balance:.2f}",
    }
    if row.tags:
        data["tags"] = list(row.tags)
    return data


def _json(data: dict) -> str:
    """A row's cells as JSON text for the COPY (orjson: a tenth of the
    preview's time was json.dumps, once per row); what orjson refuses (a
    lone surrogate from a badly decoded file) goes through json as before."""
    try:
        return orjson.dumps(data).decode()
    except TypeError:
        return json.dumps(data)


def merchant_text(data: dict) -> str:
    """What becomes merchant_raw: the payee, else the description."""
    return (data.get("payee") or data.get("description") or "").strip()[:255]


def _copy_rows(rows: list[tuple]) -> None:
    columns = (
        "source_import_id, row_number, fate, date, amount, merchant_normalized, external_id, data, message, cell, "
        "transaction_id"
    )
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {ImportRow._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


@dataclass(frozen=True)
class Routing:
    """One file split over several imports by currency (the one-call import):
    this import keeps the rows in its account's currency, a row without one
    being in `blank_currency`; rows in other currencies are left to the other
    imports, whole-file row errors to the import with `keep_errors`."""

    blank_currency: str
    keep_errors: bool


def _store_rows(source: Import, stream, *, currency: str, routing: Routing | None = None) -> int:
    """Stream the parser's rows into ImportRow in COPY batches (memory flat
    in the number of rows). -> rows stored."""
    normalized_of: dict[str, str] = {}
    batch: list[tuple] = []
    stored = 0
    # A new row carries the id of the transaction it will become (time-ordered, UUIDv7) from the
    # start, so the commit writes the link with the row instead of updating every ImportRow after.
    new_ids = iter(ordered_ids(ROW_BATCH))
    for item in stream:
        if isinstance(item, parsers.ParsedRow):
            if routing is not None and (item.currency.upper() or routing.blank_currency) != currency:
                continue
            data = _row_data(item)
            text = merchant_text(data)
            if text not in normalized_of:
                if len(normalized_of) >= NORMALIZED_CACHE:
                    normalized_of.clear()  # a file of mostly distinct payees: memory stays flat, not the cache
                normalized_of[text] = normalize_merchant_text(text)
            fate, message, cell = Fate.NEW, "", ""
            if not text:
                fate, message, cell = Fate.ERROR, "The row has no payee or description.", "payee"
            elif item.currency and item.currency.upper() != currency:
                fate, cell = Fate.ERROR, "currency"
                message = f"The row is in {item.currency.upper()}; the account is in {currency}."
            batch.append(
                (source.id, item.row_number, fate, item.date, item.amount, normalized_of[text],
                 item.external_id[:128], _json(data), message, cell, next(new_ids) if fate == Fate.NEW else None)
            )  # fmt: skip
        elif routing is not None and not routing.keep_errors:
            continue
        else:
            raw = {str(k): str(v)[:500] for k, v in (item.raw or {}).items()}
            batch.append(
                (source.id, item.row_number, Fate.ERROR, None, None, "", "", _json(raw), item.message[:2000],
                 (item.column or "")[:100], None)
            )  # fmt: skip
        if len(batch) >= ROW_BATCH:
            _copy_rows(batch)
            stored += len(batch)
            batch = []
            new_ids = iter(ordered_ids(ROW_BATCH))
    if batch:
        _copy_rows(batch)
        stored += len(batch)
    return stored


# Fates of every row that is not an error, decided again from scratch in
# one statement: (1) a row with an external id matches the account's oldest
# live row with that id, or else repeats the file's first row with that id;
# (2) without one, the k-th identical (date, amount, normalised payee) row of
# the file matches the k-th such live row of the account, in creation order.
# (3) A new row dated on or before the account's reconciliation date is an
# error (cell `date`): it would move a balance agreed with a statement; it is
# decided again like the others, so undoing the reconciliation frees it.
# (4) A new row holds the id of the transaction it will become (given when
# the row was stored, or here when it turns new); any other row holds none.
# Only rows whose fate changes are written: a commit re-checks the preview
# (the ledger may have moved), and usually nothing has, so it writes nothing.
# Every join is on equal keys and runs as a hash or merge join over this
# import's rows and the account's rows of the file's dates (CLASSIFY_SETTINGS:
# no nested loops, index scans), whatever the statistics say: with them
# collected before a bulk load or the rows just copied, the planner took
# both sides for one row and nested the whole statement inside a scan of
# every import's rows (44 s for a 2,000-row file among 4,000 rows).
CLASSIFY_SETTINGS = {"enable_nestloop": "off", "enable_seqscan": "off"}
_CLASSIFY_SQL = """
WITH live AS (
    SELECT id, row_number, date, amount, merchant_normalized, external_id FROM ledger_importrow
    WHERE source_import_id = %(imp)s
      AND (fate IN ('new', 'duplicate', 'transfer') OR (fate = 'error' AND cell = 'date' AND date IS NOT NULL))
), by_external AS (
    SELECT l.id, l.date, hit.id AS hit, min(l.row_number) OVER (PARTITION BY l.external_id) AS first_row, l.row_number
    FROM live AS l
    LEFT JOIN (
        SELECT DISTINCT ON (t.external_id) t.external_id, t.id FROM ledger_transaction t
        WHERE t.user_id = %(user)s AND t.external_id <> '' AND t.account_id = %(account)s AND NOT t.is_deleted
          AND t.external_id IN (SELECT external_id FROM live WHERE external_id <> '')
        ORDER BY t.external_id, t.created_at, t.id
    ) AS hit ON hit.external_id = l.external_id
    WHERE l.external_id <> ''
), file_rows AS (
    SELECT live.id, live.date, live.amount, live.merchant_normalized,
           row_number() OVER (PARTITION BY live.date, live.amount, live.merchant_normalized
                              ORDER BY live.row_number) AS k
    FROM live
    WHERE live.external_id = ''
), ledger_rows AS (
    SELECT t.id, t.date, t.amount, t.merchant_normalized,
           row_number() OVER (PARTITION BY t.date, t.amount, t.merchant_normalized ORDER BY t.created_at, t.id) AS k
    FROM ledger_transaction t
    WHERE t.account_id = %(account)s AND NOT t.is_deleted
      AND t.date BETWEEN %(since)s AND %(until)s
      AND (t.date, t.amount, t.merchant_normalized) IN (SELECT date, amount, merchant_normalized FROM file_rows)
), matched AS (
    SELECT e.id, e.date,
           CASE WHEN e.hit IS NOT NULL OR e.row_number <> e.first_row THEN 'duplicate' ELSE 'new' END AS fate,
           e.hit AS duplicate_of,
           CASE WHEN e.hit IS NOT NULL THEN 'Same external id as a transaction in the account.'
                WHEN e.row_number <> e.first_row
                THEN 'Repeats row ' || e.first_row || ' of this file (same external id).'
                ELSE '' END AS message
    FROM by_external e
    UNION ALL
    SELECT f.id, f.date, CASE WHEN l.id IS NULL THEN 'new' ELSE 'duplicate' END, l.id,
           CASE WHEN l.id IS NULL THEN '' ELSE 'Same date, amount and payee as a transaction in the account.' END
    FROM file_rows f LEFT JOIN ledger_rows l USING (date, amount, merchant_normalized, k)
), decided AS (
    SELECT m.id, m.duplicate_of,
           CASE WHEN m.fate = 'new' AND m.date <= %(through)s::date THEN 'error' ELSE m.fate END AS fate,
           CASE WHEN m.fate = 'new' AND m.date <= %(through)s::date
                THEN 'Dated on or before ' || %(through)s::date || ', the date this account is reconciled to; '
                     'undo the reconciliation to import it.'
                ELSE m.message END AS message,
           CASE WHEN m.fate = 'new' AND m.date <= %(through)s::date THEN 'date' ELSE '' END AS cell
    FROM matched m
)
UPDATE ledger_importrow r
SET fate = d.fate, duplicate_of = d.duplicate_of, message = d.message, cell = d.cell,
    transaction_id = CASE WHEN d.fate = 'new' THEN coalesce(r.transaction_id, gen_random_uuid()) END
FROM decided d
WHERE r.id = d.id AND r.source_import_id = %(imp)s
  AND (r.fate <> d.fate OR r.duplicate_of IS DISTINCT FROM d.duplicate_of OR r.message <> d.message
       OR r.cell <> d.cell)
"""


def _ledger_version(user_id) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(version), 0) FROM ledger_count_version WHERE user_id = %s", [user_id])
        return cursor.fetchone()[0]


def import_rows_classify(source: Import, *, unless_unchanged: bool = False) -> None:
    """Decide new / duplicate for every non-error row, and store the counts.
    unless_unchanged (a commit): nothing to do when no write has touched the
    user's rows since the fates were decided. The version is read before the
    rows, so a write committing in between only makes the next check redo it."""
    version = _ledger_version(source.user_id)
    if unless_unchanged and source.classified_version == version:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(date), max(date) FROM ledger_importrow WHERE source_import_id = %s AND date IS NOT NULL",
            [source.id],
        )
        since, until = cursor.fetchone()
        if since is not None:
            params = {"imp": source.id, "user": source.user_id, "account": source.account_id, "since": since,
                      "until": until, "through": account_reconciled_through(source.account_id)}  # fmt: skip
            cursor.execute(with_planner_settings(_CLASSIFY_SQL, CLASSIFY_SETTINGS), params)
    counts = dict(ImportRow.objects.filter(source_import=source).values_list("fate").annotate(n=Count("id")).order_by())
    source.new_count = counts.get(Fate.NEW, 0)
    source.duplicate_count = counts.get(Fate.DUPLICATE, 0)
    source.error_count = counts.get(Fate.ERROR, 0)
    source.total = sum(counts.values())
    source.classified_version = version
    source.save(update_fields=["new_count", "duplicate_count", "error_count", "total", "classified_version",
                               "updated_at"])  # fmt: skip


def read_upload(upload) -> bytes:
    max_bytes = _setting("LEDGER_IMPORT_MAX_BYTES", 20 * 1024 * 1024)
    if upload.size is not None and upload.size > max_bytes:
        raise PayloadTooLarge(f"The file is over {max_bytes // (1024 * 1024)} MB.", attr="file")
    content = upload.read()
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"The file is over {max_bytes // (1024 * 1024)} MB.", attr="file")
    return content


def import_preview(*, user, account_id, upload, profile: str | None = None, overrides: dict | None = None) -> Import:
    """Parse an uploaded statement for one of the user's accounts into a
    preview: every row with its parsed fields and fate. Nothing is written to
    the ledger. A whole-file problem is an Invalid naming what was wrong."""
    account = account_get(user=user, account_id=account_id)
    account_check_open(account)
    content = read_upload(upload)
    chosen = import_profile_resolve(user=user, ref=profile)
    return preview_content(user=user, account=account, content=content, filename=upload.name or "", profile=chosen,
                           overrides=profile_overrides(overrides or {}))  # fmt: skip


def parse_stream(content: bytes, *, filename: str, profile: ImportProfile | None, overrides: dict,
                 generic_defaults: dict | None = None) -> parsers.ParseStream:  # fmt: skip
    """The parser's stream over an uploaded file; a whole-file problem is an Invalid."""
    try:
        # Overrides apply to the chosen profile or, with `auto`, to the detected one.
        return parsers.iter_parse(
            content,
            filename=filename,
            profile=profile_for_parser(profile) if profile else None,
            overrides=overrides,
            max_rows=_setting("LEDGER_IMPORT_MAX_ROWS", 1_000_000),
            generic_defaults=generic_defaults,
        )
    except parsers.ImportFileError as exc:
        raise file_error(exc)
    except (TypeError, ValueError) as exc:  # an override the profile cannot take
        raise Invalid(str(exc), code="invalid_profile")


def preview_content(*, user, account, content: bytes, filename: str, profile: ImportProfile | None, overrides: dict,
                    generic_defaults: dict | None = None, routing: Routing | None = None) -> Import:  # fmt: skip
    """The preview of already-read file content for an open account (import_preview's body)."""
    chosen = profile
    stream = parse_stream(content, filename=filename, profile=chosen, overrides=overrides,
                          generic_defaults=generic_defaults)  # fmt: skip
    now = timezone.now()
    with db_transaction.atomic():
        source = Import.objects.create(
            user=user,
            account=account,
            profile=chosen,
            filename=filename[:255],
            sha256=hashlib.sha256(content).hexdigest(),
            format=stream.format,
            expires_at=now + PREVIEW_TTL,
        )
        try:
            stored = _store_rows(source, stream, currency=account.currency, routing=routing)
        except parsers.ImportFileError as exc:
            raise file_error(exc)
        if not stored:
            raise Invalid("The file has no transaction rows.", code="no_rows", attr="file")
        source.detected_by = stream.detected_by
        if chosen is None and stream.detected_by == "signature":
            source.profile = ImportProfile.objects.filter(user=None, name=stream.profile.name).first()
        source.profile_used = stream.profile.to_dict() if stream.profile else {}
        source.filtered_count = stream.skipped
        source.warnings = list(stream.warnings)
        statement = stream.statement
        source.statement = {
            "currency": statement.currency,
            "opening_balance": None if statement.opening_balance is None else f"{statement.opening_balance:.2f}",
            "closing_balance": None if statement.closing_balance is None else f"{statement.closing_balance:.2f}",
            "account_ref": statement.account_ref,
        }
        if statement.closing_date is not None:
            source.statement["closing_date"] = statement.closing_date.isoformat()
        source.file.save(f"{source.id}.{stream.format}", ContentFile(content), save=False)
        source.save()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")  # classification is index probes; compiling them only costs
        import_rows_classify(source)
        if stream.format == "ofx" and (warning := _ledger_balance_warning(source, statement)):
            source.warnings.append(warning)
            source.save(update_fields=["warnings", "updated_at"])
    return source


def _ledger_balance_warning(source: Import, statement: parsers.Statement) -> str:
    """OFX gives a closing (ledger) balance but no opening one, so the rows
    are checked against the account: the balance it would have on DTASOF
    after this import's new rows. Only when the account knows its balance
    before the file (an opening balance or earlier rows); flagged, never refused."""
    closing, asof, account = statement.closing_balance, statement.closing_date, source.account
    if closing is None or statement.opening_balance is not None:
        return ""
    new_rows = ImportRow.objects.filter(source_import=source, fate=Fate.NEW)
    live = Transaction.objects.filter(account=account, is_deleted=False)
    if asof is not None:
        new_rows, live = new_rows.filter(date__lte=asof), live.filter(date__lte=asof)
    first = ImportRow.objects.filter(source_import=source, date__isnull=False).aggregate(first=Min("date"))["first"]
    if first is None or not account.opening_balance and not live.filter(date__lt=first).exists():
        return ""
    spent = (live.aggregate(t=Sum("amount"))["t"] or Decimal(0)) + (new_rows.aggregate(t=Sum("amount"))["t"] or 0)
    projected = account.opening_balance - spent
    if projected == closing:
        return ""
    on = f" on {asof.isoformat()}" if asof else ""
    return (f"balance mismatch: the OFX ledger balance (LEDGERBAL) is {closing}{on}, the account would be at "
            f"{projected} after this import")  # fmt: skip
