"""CSV import into the ledger: duplicate detection per file, bulk COPY,
and ImportJob for files large enough to run as a task."""

import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from config.exceptions import DomainError
from ledger.books.guards import account_check_open, account_default, user_default_currency
from ledger.books.matching import transfers_match
from ledger.imports import parsing as importing
from ledger.imports.leases import import_lease
from ledger.models import Account, ImportJob, Transaction, TransactionChange
from ledger.rules.engine import Outcome, RuleSet, tags_resolve_many
from ledger.rules.fields import Draft
from ledger.transactions.services import (
    CategoryResolver,
    Change,
    _after_transactions_committed,
    changes_record,
    transaction_tags_change,
)
from merchants.services import normalize_merchant_text
from realtime.services import notify_import_progress

IMPORT_BATCH_SIZE = 5000


@dataclass
class ImportResult:
    imported: int = 0
    duplicates: int = 0
    errors: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # [{row, matched_id}]
    total: int = 0
    transfers_matched: int = 0

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "transfers_matched": self.transfers_matched,
            "duplicates": self.duplicates,
            "errors": self.errors,
            "skipped": self.skipped,
            "total": self.total,
        }


class ImportRejected(DomainError):
    """atomic=true and at least one bad row: nothing was written."""

    default_code = "invalid_rows"


def _existing_keys(user, rows: list[importing.ParsedRow]):
    """Live ledger rows that file rows could duplicate, in one query over the
    file's date range: external ids, and per (date, amount, normalised
    merchant) the ids in creation order (the k-th file row matches the k-th)."""
    by_external: dict[str, object] = {}
    by_key: dict[tuple, list] = defaultdict(list)
    if not rows:
        return by_external, by_key
    dates = [row.date for row in rows]
    existing = (
        Transaction.objects.live()
        .for_user(user)
        .between(min(dates), max(dates))
        .order_by("created_at", "id")
        .values_list("id", "date", "amount", "merchant_normalized", "external_id")
    )
    for tx_id, date, amount, normalized, external_id in existing.iterator(chunk_size=5000):
        if external_id:
            by_external.setdefault(external_id, tx_id)
        by_key[(date, amount, normalized)].append(tx_id)
    return by_external, by_key


def transactions_import(
    *,
    user,
    content: bytes | str,
    account: Account | None = None,
    atomic: bool = False,
    force_rows: Iterable[int] = (),
    progress: Callable[[int, int], None] | None = None,
    import_ref=None,
) -> ImportResult:
    """Import a CSV file for one user. Each row goes through the creation
    path (normalise, match, categorise). Duplicates: a row with an
    external_id matches that id exactly; otherwise the k-th identical
    (date, amount, normalised merchant) row of the file matches only the
    k-th such row already in the ledger, so identical genuine purchases are
    kept and a re-import adds nothing. force_rows imports matched rows
    anyway. Bad rows are reported and skipped, or with atomic=True nothing is
    written. Rows go to `account` (a row in another currency is an error
    row), or without one to the user's default account for each row's
    currency. Afterwards the new rows are matched as transfers.
    Raises DomainError for a file-level problem (encoding, header)."""
    if account is not None:
        account_check_open(account)
    parsed = importing.parse_csv(content, max_rows=_setting("LEDGER_IMPORT_MAX_ROWS", 1_000_000))
    result = ImportResult(total=len(parsed.rows) + len(parsed.errors))
    result.errors = [{"row": n, "message": m} for n, m in parsed.errors]
    forced = {int(n) for n in force_rows}
    if atomic and result.errors:
        raise ImportRejected(
            f"{len(result.errors)} row(s) are invalid; nothing was imported.",
            imported=0,
            duplicates=0,
            row_errors=sorted(result.errors, key=lambda e: e["row"]),
        )

    resolver = CategoryResolver(user)
    resolver.prefetch({row.merchant for row in parsed.rows})
    by_external, by_key = _existing_keys(user, parsed.rows)
    seen: dict[tuple, int] = defaultdict(int)
    kept: list[list] = []
    accounts_by_currency: dict[str, object] = {}

    def account_id_for(currency: str):
        # One default-account lookup per currency in the file, not per row.
        if currency not in accounts_by_currency:
            accounts_by_currency[currency] = account_default(user=user, currency=currency).pk
        return accounts_by_currency[currency]

    default_currency = account.currency if account is not None else user_default_currency(user)
    now = timezone.now()
    user_id, source, uuid4 = user.pk, Transaction.Source.CSV, uuid.uuid4
    # The creation path's decisions (normalise, match, categorise) once per
    # distinct (merchant text, explicit category), not once per row.
    decided: dict[tuple, tuple] = {}
    for row in parsed.rows:
        currency = row.currency or default_currency
        if account is not None and currency != account.currency:
            result.errors.append(
                {"row": row.number, "message": f"Currency {currency} differs from the account's {account.currency}."}
            )
            continue
        decision = decided.get((row.merchant, row.category))
        if decision is None:
            normalized = normalize_merchant_text(row.merchant)
            merchant, category, confidence = resolver.resolve(
                normalized=normalized, raw=row.merchant, explicit=row.category
            )
            decision = (
                normalized,
                merchant.id if merchant else None,
                category,
                json.dumps(confidence),
                merchant.canonical_name if merchant else "",
                confidence,
            )
            decided[(row.merchant, row.category)] = decision
        normalized = decision[0]
        if row.external_id:
            matched = by_external.get(row.external_id)
        else:
            key = (row.date, row.amount, normalized)
            count = seen[key] = seen[key] + 1
            earlier = by_key.get(key)
            matched = earlier[count - 1] if earlier and count <= len(earlier) else None
        if matched and row.number not in forced:
            result.duplicates += 1
            result.skipped.append({"row": row.number, "matched_id": str(matched)})
            continue
        tx_id = uuid4()
        if row.external_id:
            by_external.setdefault(row.external_id, tx_id)  # a repeated id later in the same file
        # [id, row, normalized, merchant_id, category, confidence json, notes, currency, kind]
        kept.append(
            [
                tx_id,
                row,
                normalized,
                decision[1],
                decision[2],
                decision[3],
                row.notes,
                currency,
                Transaction.Kind.STANDARD,
            ]
        )

    # The user's rules, compiled once, after merchant matching and before the
    # rows are written (ledger/rules/engine.py); only rows they change cost more.
    ruleset = RuleSet.for_user(user)
    outcome = Outcome(user, ruleset)
    if ruleset:
        drafts = [_draft(item, decided, account) for item in kept]
        ruleset.prepare(drafts)
        run = ruleset.run
        for item, draft in zip(kept, drafts, strict=True):
            changes = run(draft)
            if changes:
                outcome.add(draft, changes)
                item[3], item[4], item[6] = draft.merchant_id, draft.category, draft.notes
                item[8] = draft.kind or item[8]
                if draft.confidence.get("method") == "rule":
                    item[5] = json.dumps(draft.confidence)

    to_copy: list[tuple] = []
    ids: list = []
    categories: set[str] = set()
    file_tags: dict = {}
    for tx_id, row, normalized, merchant_id, category, confidence, notes, currency, kind in kept:
        ids.append(tx_id)
        categories.add(category)
        if row.tags:
            file_tags[tx_id] = row.tags
        to_copy.append(
            (
                tx_id,
                now,
                now,
                user_id,
                row.amount,
                currency,
                row.date,
                row.merchant,
                normalized,
                merchant_id,
                category,
                source,
                notes,
                row.external_id,
                confidence,
                "",
                "",
                False,
                account.pk if account is not None else account_id_for(currency),
                kind,
            )
        )

    if atomic and result.errors:
        raise ImportRejected(
            f"{len(result.errors)} row(s) are invalid; nothing was imported.",
            imported=0,
            duplicates=0,
            row_errors=sorted(result.errors, key=lambda e: e["row"]),
        )
    result.errors.sort(key=lambda e: e["row"])
    with db_transaction.atomic():
        for start in range(0, len(to_copy), IMPORT_BATCH_SIZE):
            _copy_insert(to_copy[start : start + IMPORT_BATCH_SIZE])
            if progress:
                progress(min(start + IMPORT_BATCH_SIZE, len(to_copy)), len(to_copy))
        result.imported = len(to_copy)
        _write_file_tags(user, file_tags, outcome, import_ref)
        outcome.write(by=TransactionChange.By.RULE, import_ref=import_ref)
        if to_copy:
            matched = transfers_match(user=user, transaction_ids=ids, created_by="import")
            result.transfers_matched = len(matched.transfers)
            categories |= matched.categories
            ids.extend(matched.touched_ids - set(ids))
            _after_transactions_committed(
                user_id=user.pk, action="imported", categories=categories, transaction_ids=ids
            )
    return result


def _draft(item, decided, account) -> Draft:
    tx_id, row, _, merchant_id, category, _, notes, currency, kind = item
    decision = decided[(row.merchant, row.category)]
    return Draft(
        id=tx_id,
        merchant_raw=row.merchant,
        merchant_id=merchant_id,
        merchant_name=decision[4],
        notes=notes,
        amount=row.amount,
        currency=currency,
        date=row.date,
        category=category,
        confidence=decision[5],
        source=Transaction.Source.CSV,
        tags=list(row.tags),
        account_name=account.name if account is not None else "",
        account_kind=account.kind if account is not None else "",
        kind=kind,
    )


def _write_file_tags(user, file_tags: dict, outcome: Outcome, import_ref) -> None:
    """The file's `tags` column: one audit row (by import) per tagged row;
    rows whose tags rules also changed get their final tags from the outcome."""
    pending = {tx_id: names for tx_id, names in file_tags.items() if tx_id not in outcome.tags}
    if pending:
        by_name = {tag.name.lower(): tag for tag in tags_resolve_many(user, {n for v in pending.values() for n in v})}
        groups = defaultdict(list)
        for tx_id, names in pending.items():
            groups[frozenset(n.lower() for n in names)].append(tx_id)
        for key, tx_ids in groups.items():
            transaction_tags_change(transaction_ids=tx_ids, add=[by_name[n] for n in key], audit=False)
    changes_record(
        [Change(tx_id, "tags", [], sorted(names, key=str.lower)) for tx_id, names in file_tags.items()],
        by=TransactionChange.By.IMPORT,
        import_ref=import_ref,
    )


# Column order of the tuples transactions_import builds; the search vector is generated.
_COPY_COLUMNS = (
    "id, created_at, updated_at, user_id, amount, currency, date, merchant_raw, merchant_normalized, merchant_id, "
    "category, source, notes, external_id, confidence, blockchain_hash, ipfs_cid, is_deleted, account_id, kind"
)


def _copy_insert(rows: list[tuple]) -> None:
    """Bulk insert through COPY: Django's bulk_create spends most of an
    import compiling per-value SQL parameters and model instances cost
    ~100 us each; COPY streams the plain tuples (in `_COPY_COLUMNS` order)."""
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {Transaction._meta.db_table} ({_COPY_COLUMNS}) FROM STDIN") as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)


def _setting(name: str, default):
    return getattr(settings, name, default)


def import_limits() -> tuple[int, int]:
    """(max upload bytes, rows above which the import runs as a task)."""
    return _setting("LEDGER_IMPORT_MAX_BYTES", 20 * 1024 * 1024), _setting("LEDGER_IMPORT_ASYNC_ROWS", 5000)


@db_transaction.atomic
def import_job_create(
    *,
    user,
    content: bytes,
    filename: str = "",
    account: Account | None = None,
    atomic: bool = False,
    force_rows=(),
    run_async: bool | None = None,
) -> tuple[ImportJob, ImportResult | None]:
    """Start an import. Files over the async threshold are stored in an
    ImportJob and run by the `ledger.import_transactions` task (answered
    202 by the view); smaller ones run now and the job records the outcome."""
    text = importing.decode(content)
    importing.check_header(text)  # a wrong header is a 400 now, not a failed job later
    _, async_rows = import_limits()
    if run_async is None:
        run_async = importing.count_lines(text) > async_rows
    if account is not None:
        account_check_open(account)
    job = ImportJob.objects.create(
        user=user,
        account=account,
        filename=filename[:255],
        atomic=atomic,
        force_rows=sorted({int(n) for n in force_rows}),
    )
    if run_async:
        job.content = text
        job.save(update_fields=["content", "updated_at"])
        from ledger.imports.tasks import import_transactions

        db_transaction.on_commit(lambda: import_transactions.delay(str(job.id)))
        return job, None
    result = transactions_import(
        user=user, content=text, account=account, atomic=atomic, force_rows=force_rows, import_ref=job.id
    )
    _job_finish(job, result)
    return job, result


def _job_finish(job: ImportJob, result: ImportResult) -> None:
    job.status = ImportJob.Status.COMPLETED
    job.total = job.processed = result.total
    job.summary = result.as_dict()
    job.content = ""
    job.finished_at = timezone.now()
    job.save()
    summary, user_id, job_id, total = job.summary, job.user_id, job.id, job.total
    db_transaction.on_commit(
        lambda: notify_import_progress(
            user_id=user_id, job_id=job_id, processed=total, total=total, status="completed", summary=summary
        )
    )


def import_job_run(*, job_id) -> dict:
    """Run a stored import (the task's body). Idempotent: a finished job is
    not run again. The task holds the job's lease (leases.py) while it runs;
    a delivery that finds the job running with the lease free takes it over
    (the dead worker's rows were one transaction, rolled back with it), so a
    job never stays running after its worker died. A bad file or atomic
    rejection fails the job, not the worker."""
    with import_lease(f"importjob:{job_id}") as held:
        if not held:
            return {"job_id": str(job_id), "status": ImportJob.Status.RUNNING, "lease": "held by another worker"}
        return _job_run(job_id)


def import_job_fail(*, job_id, error: str) -> None:
    ImportJob.objects.filter(pk=job_id, status__in=[ImportJob.Status.PENDING, ImportJob.Status.RUNNING]).update(
        status=ImportJob.Status.FAILED, error=error[:2000], content="", finished_at=timezone.now()
    )


def _job_run(job_id) -> dict:
    with db_transaction.atomic():
        job = ImportJob.objects.select_for_update(of=("self",)).select_related("user", "account").get(pk=job_id)
        if job.status not in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING):
            return {"job_id": str(job.id), "status": job.status}
        job.status = ImportJob.Status.RUNNING
        job.save(update_fields=["status", "updated_at"])

    def progress(done: int, total: int):
        ImportJob.objects.filter(pk=job.pk).update(processed=done, total=total)
        notify_import_progress(user_id=job.user_id, job_id=job.id, processed=done, total=total, status="running")

    try:
        with db_transaction.atomic():
            result = transactions_import(
                user=job.user,
                content=job.content,
                account=job.account,
                atomic=job.atomic,
                force_rows=job.force_rows,
                progress=progress,
                import_ref=job.id,
            )
            _job_finish(job, result)
    except DomainError as exc:
        detail = str(exc.detail)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            error=detail,
            summary=getattr(exc, "extra", None) or None,
            content="",
            finished_at=timezone.now(),
        )
        notify_import_progress(
            user_id=job.user_id, job_id=job.id, processed=0, total=job.total, status="failed", summary={"error": detail}
        )
        return {"job_id": str(job.id), "status": ImportJob.Status.FAILED}
    return {"job_id": str(job.id), "status": ImportJob.Status.COMPLETED, "imported": result.imported}
