"""The one-call import, `POST transactions/import`: preview and commit in
one request, for the clients of Tally's first CSV importer. It runs on the
statement importer (previews.py, commits.py), so it reads what a preview
reads (every format, built-in profiles by header signature, each row's sign
as its profile says) and writes what a commit writes (merchants, rules,
categories, tags, transfers, one announcement, revertable with
`DELETE imports/{id}`).

Where the rows go: into `account` when one is given (a row in another
currency is a row error there), else each row into its currency's default
account (or its only open account), one Import per account. A row without
a currency is in the user's default currency; that currency's default
account is created on first use, as `POST transactions` does. A currency
the user has no account in (or several, none the default) is a 400
naming the first row in it: an account is a real thing with a balance and an
institution, and inventing "Main JPY" from a cell (a typo, or a card's
foreign purchase whose original currency the bank printed) would put a
phantom account into net worth and budgets. The answer says how to go on
(create the account, or import into one with `account`).

A table no built-in profile recognises is read with this endpoint's own
convention, positive amounts are money out (Tally's sign, what its clients
have always sent), unless the request says `sign`; a recognised bank export
(Chase, Monzo, ...) is read with its profile's sign.

Small files are previewed and committed in one transaction: all or nothing.
Files with more rows than LEDGER_IMPORT_ASYNC_ROWS are previewed in the
request and committed by the `ledger.commit_import` task (202): exactly once
per import whatever the deliveries, progress in `GET imports/{id}`."""

from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction as db_transaction
from django.urls import reverse

from config.exceptions import DomainError, Invalid, NotFound
from ledger.books.guards import account_check_open, account_default, user_default_currency
from ledger.books.selectors import account_get
from ledger.imports import commits, previews
from ledger.imports.profiles import import_profile_resolve, profile_overrides
from ledger.models import Account, Import, ImportRow

Fate = ImportRow.Fate
# The endpoint's reading of a table that no bank profile fits (see the module's text).
ONE_CALL_GENERIC = {"sign": "positive_is_out"}


class ImportRejected(DomainError):
    """atomic=true and at least one bad row: nothing was written."""

    default_code = "invalid_rows"


class NoAccountForCurrency(Invalid):
    default_code = "no_account_for_currency"


@dataclass
class OneCallImport:
    """What the request did: its imports (one per account), and whether they
    were committed in the request or queued for the task."""

    imports: list[Import]
    queued: bool
    result: dict = field(default_factory=dict)


def _currencies(content: bytes, *, filename: str, profile, overrides: dict, blank: str) -> dict[str, int]:
    """{currency: its first row} of the file's rows, in the order they appear."""
    stream = previews.parse_stream(content, filename=filename, profile=profile, overrides=overrides,
                                   generic_defaults=_generic(overrides))  # fmt: skip
    found: dict[str, int] = {}
    try:
        for item in stream:
            currency = getattr(item, "currency", None)
            if currency is not None:
                found.setdefault(currency.upper() or blank, item.row_number)
    except previews.parsers.ImportFileError as exc:
        raise previews.file_error(exc)
    return found


def _generic(overrides: dict) -> dict:
    return {} if "sign" in overrides else ONE_CALL_GENERIC


def _targets(*, user, found: dict[str, int], blank: str) -> list[Account]:
    """Each currency's account: its default one, else its only open one;
    the user's default currency's is created when the user has none in it.
    No account, or several and none the default, is a 400 naming the first row."""
    accounts = []
    for currency, row in found.items():
        account = Account.objects.filter(user=user, currency=currency, is_default=True).first()
        if account is None:
            open_ones = list(Account.objects.filter(user=user, currency=currency, closed_at__isnull=True)[:2])
            if len(open_ones) == 1:
                account = open_ones[0]
            elif open_ones:
                raise NoAccountForCurrency(
                    f"Row {row} is in {currency}: you have several {currency} accounts and none is the default. "
                    f"Make one the default (PATCH /api/v1/accounts/{{id}} is_default) or import with `account`.",
                    code="ambiguous_account",
                    attr="file",
                    row=row,
                    currency=currency,
                )
            elif currency == blank:
                account = account_default(user=user, currency=currency)
        if account is None:
            raise NoAccountForCurrency(
                f"Row {row} is in {currency}, and you have no account in {currency}. Create one "
                f"(POST /api/v1/accounts with currency {currency}) or import the file into an account with `account`.",
                attr="file",
                row=row,
                currency=currency,
            )
        account_check_open(account)
        accounts.append(account)
    return accounts


def transactions_import(
    *,
    user,
    upload,
    account_id=None,
    atomic: bool = False,
    force_rows=(),
    profile: str | None = None,
    overrides: dict | None = None,
    run_async: bool | None = None,
) -> OneCallImport:
    """Preview and commit an uploaded file in one call (see the module's text)."""
    content = previews.read_upload(upload)
    filename = upload.name or ""
    chosen = import_profile_resolve(user=user, ref=profile)
    overrides = profile_overrides(overrides or {})
    generic = _generic(overrides)
    found = None
    if account_id is not None:
        account = account_get(user=user, account_id=account_id)
        account_check_open(account)
    else:
        blank = user_default_currency(user)
        found = _currencies(content, filename=filename, profile=chosen, overrides=overrides, blank=blank)
        if not found:  # rows, but none readable: the errors go to the user's default currency's import
            found = {blank: 0}
    stored: list[Import] = []
    try:
        with db_transaction.atomic():
            if found is None:
                plan = [(account, None)]
            else:  # inside the transaction: a refused file leaves no new default account behind
                accounts = _targets(user=user, found=found, blank=blank)
                routings = [previews.Routing(blank_currency=blank, keep_errors=not i) for i in range(len(accounts))]
                plan = list(zip(accounts, routings, strict=True))
            for account, routing in plan:
                stored.append(
                    previews.preview_content(
                        user=user,
                        account=account,
                        content=content,
                        filename=filename,
                        profile=chosen,
                        overrides=overrides,
                        generic_defaults=generic,
                        routing=routing,
                    )  # fmt: skip
                )
            errors = _row_errors(stored)
            if atomic and errors:
                raise ImportRejected(
                    f"{len(errors)} row(s) are invalid; nothing was imported.",
                    imported=0,
                    duplicates=0,
                    row_errors=errors,
                )
            forced = sorted({int(n) for n in force_rows})
            if run_async is None:
                pending = sum(_pending(source, forced) for source in stored)
                run_async = pending > getattr(settings, "LEDGER_IMPORT_ASYNC_ROWS", 5000)
            done = [
                commits.import_commit(user=user, import_id=source.id, force_rows=forced, run_async=run_async)
                for source in stored
            ]
            outcome = OneCallImport(imports=done, queued=run_async)
            if not run_async:
                outcome.result = one_call_result(done)
    except BaseException:
        for source in stored:  # the rows rolled back; the stored files go with them
            if source.file:
                source.file.delete(save=False)
        raise
    return outcome


def _pending(source: Import, forced: list[int]) -> int:
    duplicates = ImportRow.objects.filter(source_import=source, fate=Fate.DUPLICATE, row_number__in=forced).count()
    return source.new_count + duplicates


def _row_errors(imports: list[Import]) -> list[dict]:
    rows = ImportRow.objects.filter(source_import__in=imports, fate=Fate.ERROR).order_by("row_number")
    return [
        {"row": number, "message": message, **({"cell": cell} if cell else {})}
        for number, message, cell in rows.values_list("row_number", "message", "cell")
    ]


def _skipped(imports: list[Import]) -> list[dict]:
    """Duplicates left out: the transaction each matched (a repeat of an
    earlier row of the file with the same external id: that row's transaction)."""
    rows = ImportRow.objects.filter(source_import__in=imports, fate=Fate.DUPLICATE, transaction__isnull=True)
    skipped = list(rows.order_by("row_number").values_list("row_number", "duplicate_of", "external_id",
                                                           "source_import_id"))  # fmt: skip
    repeats = {(imp, ext) for _, matched, ext, imp in skipped if matched is None and ext}
    written = {}
    if repeats:
        earlier = ImportRow.objects.filter(
            source_import__in=imports,
            transaction__isnull=False,
            external_id__in={ext for _, ext in repeats},
        ).order_by("row_number")
        for imp, ext, tx_id in earlier.values_list("source_import_id", "external_id", "transaction_id"):
            written.setdefault((imp, ext), tx_id)
    return [
        {"row": number, "matched_id": str(matched or written.get((imp, ext)) or "") or None}
        for number, matched, ext, imp in skipped
    ]


def one_call_result(imports: list[Import]) -> dict:
    """The first importer's answer over a committed one-call import: counts,
    row errors, skipped duplicates with the transaction each matched."""
    skipped = _skipped(imports)
    return {
        "imported": sum(source.imported_count for source in imports),
        "transfers_matched": sum(source.transfers_matched for source in imports),
        "duplicates": len(skipped),
        "errors": _row_errors(imports),
        "skipped": skipped,
        "total": sum(source.total for source in imports),
        "imports": [import_ref(source) for source in imports],
    }


def import_ref(source: Import) -> dict:
    return {
        "id": str(source.id),
        "account": str(source.account_id),
        "currency": source.account.currency,
        "status": source.status,
        "url": reverse("ledger:import-detail", kwargs={"pk": source.id}),
    }


_JOB_STATUS = {
    Import.Status.PREVIEW: "pending",
    Import.Status.RUNNING: "running",
    Import.Status.COMMITTED: "completed",
    Import.Status.FAILED: "failed",
    Import.Status.REVERTED: "reverted",
    Import.Status.EXPIRED: "expired",
}


def one_call_job(source: Import) -> dict:
    """An import in the first importer's job shape (its 202 answer and `GET transactions/import/{id}`)."""
    done = source.status in (Import.Status.COMMITTED, Import.Status.REVERTED)
    return {
        "id": str(source.id),
        "status": _JOB_STATUS[source.status],
        "filename": source.filename,
        "total": source.total,
        "processed": source.processed,
        "summary": one_call_result([source]) if done else None,
        "error": source.error,
        "created_at": source.created_at,
        "finished_at": source.committed_at if done else source.updated_at if source.status == "failed" else None,
    }


def one_call_queued(outcome: OneCallImport) -> dict:
    first = outcome.imports[0]
    return {
        **one_call_job(first),
        "job_id": str(first.id),
        "total": sum(source.total for source in outcome.imports),
        "url": import_ref(first)["url"],
        "imports": [import_ref(source) for source in outcome.imports],
    }


def one_call_status(*, user, job_id) -> dict:
    """`GET transactions/import/{id}`: an import of this endpoint, or a job of the importer before it (history)."""
    from ledger.imports.selectors import import_get, import_job_get

    try:
        return one_call_job(import_get(user=user, import_id=job_id))
    except NotFound:
        job = import_job_get(user=user, job_id=job_id)
    fields = ("status", "filename", "total", "processed", "summary", "error", "created_at", "finished_at")
    return {"id": str(job.id), **{name: getattr(job, name) for name in fields}}
