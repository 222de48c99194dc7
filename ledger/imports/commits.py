"""Commit and revert of an Import. A commit writes the preview's new rows
(plus forced duplicates, minus skipped rows) into the account through COPY,
after the same decisions the creation path makes (merchant, category), then
matches transfers and announces the import once. Big imports run as a task
on ``high_priority``; a task that finds its import already finished is a
no-op, so redelivery never writes a row twice."""

import contextlib
import gc
import json
import uuid

from django.conf import settings
from django.db import connection
from django.db import transaction as db_transaction
from django.db.models import Count, Exists, Max, Min, OuterRef
from django.db.models.fields.json import KT
from django.utils import timezone

from config.exceptions import Conflict
from config.sql import COPY_NULL, copy_text
from ledger.books.guards import RECONCILED_CODE, account_check_open, account_reconciled_through
from ledger.books.matching import transfers_match, transfers_suggest_fx, user_currencies
from ledger.books.prematch import TransferPlan
from ledger.currency.services import BulkConverter, converted_by_caller
from ledger.events import TransactionIds, announce_transactions_changed
from ledger.imports.leases import import_lease
from ledger.imports.previews import ROW_BATCH, import_rows_classify
from ledger.imports.tagging import import_file_tags_write
from ledger.models import Import, ImportRow, Transaction, Transfer
from ledger.models.transactions import NOTES_MAX_LENGTH
from ledger.rules.engine import Outcome, RuleSet
from ledger.rules.fields import Draft
from ledger.transactions.services import CategoryResolver, income_by_wording
from merchants.categories import CATEGORY_NAMES, Category
from realtime.services import notify_import_committed, notify_import_progress

Fate = ImportRow.Fate
Status = Import.Status
_CATEGORIES = set(CATEGORY_NAMES)
# Rows written per COPY and per progress event.
COMMIT_BATCH = ROW_BATCH

# A batch's rows are tuples of the cells that differ per row (rules and transfer matching change
# some of them, at the positions below); the cells every row of the import shares are one text.
# merchant_raw, merchant_normalized and confidence are held as COPY text already (escaped once per
# distinct payee decision, or per rule), the other texts are escaped as the batch is written.
_ROW_COLUMNS = (
    "id, kind, amount, date, merchant_raw, merchant_normalized, merchant_id, category, bank_category, notes, "
    "external_id, confidence, amount_base, rate_date, transfer_id"
)
_SHARED_COLUMNS = (
    "created_at, updated_at, user_id, account_id, currency, source, blockchain_hash, ipfs_cid, is_deleted, "
    "source_import_id, base_currency"
)
_KIND, _AMOUNT, _MERCHANT, _CATEGORY, _NOTES, _CONFIDENCE, _TRANSFER = 1, 2, 6, 7, 9, 11, 14


def _shared_cells(*, now, user, account, source: Import, base_currency: str) -> str:
    """The COPY text of the columns every row of the import has alike (after a row's own cells)."""
    cells = (now.isoformat(), now.isoformat(), user.pk, account.pk, account.currency, Transaction.Source.IMPORT,
             "", "", "f", source.pk, base_currency)  # fmt: skip
    return "".join(f"\t{copy_text(cell)}" for cell in cells) + "\n"


def _copy_transactions(rows: list[tuple], shared: str) -> None:
    """COPY the batch as text built here, each cell by what its column holds
    (psycopg's per-value adapters were a fifth of a commit's own time)."""
    esc, null = copy_text, COPY_NULL
    text = "".join(
        f"{tx_id}\t{kind}\t{amount}\t{day}\t{raw}\t{normalized}\t{null if merchant is None else merchant}"
        f"\t{category}\t{bank and esc(bank)}\t{notes and esc(notes)}\t{external and esc(external)}\t{confidence}"
        f"\t{null if base is None else base}\t{null if rate_day is None else rate_day}"
        f"\t{null if transfer is None else transfer}{shared}"
        for (tx_id, kind, amount, day, raw, normalized, merchant, category, bank, notes, external, confidence, base,
             rate_day, transfer) in rows
    )  # fmt: skip
    # Converted here (BulkConverter), not by the trigger row by row: the rates of the whole file in one query.
    with converted_by_caller(), connection.cursor() as cursor:
        columns = f"{_ROW_COLUMNS}, {_SHARED_COLUMNS}"
        with cursor.cursor.copy(f"COPY {Transaction._meta.db_table} ({columns}) FROM STDIN") as copy:
            copy.write(text.encode())


def _rules_run(ruleset: RuleSet, outcome: Outcome, drafts: list[Draft], batch: list[tuple]) -> None:
    """Run the rules on a batch of drafts and fold what they changed into
    the batch's COPY tuples; tags, splits, audit rows and rule counters go to
    `outcome`, written once the rows exist."""
    ruleset.prepare(drafts)
    run = ruleset.run
    confidences: dict = {}  # a rule's confidence JSON, once per rule (it is the same on every row it set)
    for index, draft in enumerate(drafts):
        changes = run(draft)
        if not changes:
            continue
        outcome.add(draft, changes)
        row = list(batch[index])
        row[_MERCHANT], row[_CATEGORY], row[_NOTES] = draft.merchant_id, draft.category, draft.notes
        row[_KIND] = draft.kind or row[_KIND]
        confidence = draft.confidence
        if confidence.get("method") == "rule":
            known = confidences.get(confidence.get("rule"))
            if known is None or known[0] != confidence:
                known = confidences[confidence.get("rule")] = (dict(confidence), copy_text(json.dumps(confidence)))
            row[_CONFIDENCE] = known[1]
        batch[index] = tuple(row)


def _mark_transfer_rows(pairs: list[tuple[int, uuid.UUID]], transfers) -> None:
    """The ImportRows whose new rows were linked as transfer legs on the way
    in (`transfers`: their transaction ids) get fate transfer. The others
    already hold the id of the row they became (see _assign_ids)."""
    row_ids = [row_id for row_id, tx_id in pairs if tx_id in transfers]
    if row_ids:
        ImportRow.objects.filter(id__in=row_ids).update(fate=Fate.TRANSFER)


def _plan_for(source: Import, ruleset: RuleSet, pending) -> TransferPlan | None:
    """The transfer pairs of the rows to be written, decided before they
    are (books.prematch), so a matched row is written once, already linked.
    Not when a user's rule can make a row an adjustment or mark it a
    transfer: whether a row is a candidate then depends on the rules' pass,
    and matching runs on the written rows after the commit as before."""
    if ruleset.shapes_transfers:
        return None
    return transfers_plan(user=source.user, account=source.account, seeds=pending.values_list("id", "amount", "date"))


def transfers_plan(*, user, account, seeds) -> TransferPlan:
    return TransferPlan(user=user, account=account).build(seeds)


def _link_planned(plan: TransferPlan, batch: list[tuple], links: list[tuple]) -> tuple[dict, list, list]:
    """Apply the plan to a batch about to be written: the strong pairs are
    linked (their new rows' COPY tuples become transfer legs, category
    Transfers, the category they would have had kept on the Transfer); ->
    ({new id: transfer id}, the ambiguous pairs to suggest once the rows
    exist, the new ids whose counterpart had moved on since the plan)."""
    index_of = {row_id: index for index, (row_id, _tx) in enumerate(links)}
    strong, weak = [], []
    for key, other_id, other_amount, seed_out, diff, is_strong in plan.batch(list(index_of)):
        index = index_of[key]
        row = batch[index]
        if is_strong:
            strong.append((row[0], row[_AMOUNT], row[_CATEGORY], other_id, other_amount))
        else:
            weak.append((row[0], other_id, seed_out, diff))
    linked = plan.link(strong, created_by=Transfer.CreatedBy.IMPORT)
    if linked:
        for index, row in enumerate(batch):
            if row[0] in linked:
                changed = list(row)
                changed[_KIND], changed[_CATEGORY], changed[_TRANSFER] = (
                    Transaction.Kind.TRANSFER, Category.TRANSFERS, linked[row[0]][0])  # fmt: skip
                batch[index] = tuple(changed)
    missed = [row[0] for row in strong if row[0] not in linked]
    return {new_id: value[0] for new_id, value in linked.items()}, weak, missed


@contextlib.contextmanager
def _collector_paused():
    """Python's cycle collector off while a commit builds its batches: each
    batch is thousands of tuples that outlive the young generations, so the
    collector kept walking the whole heap for garbage they never make (none
    of them is in a cycle; reference counting frees them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _without_jit() -> None:
    """For the rest of the current transaction: the commit's statements are
    index probes over many rows, which JIT compiling slows down (hundreds of
    ms a statement) and never speeds up."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")


def _lock(*, user, import_id) -> Import:
    from ledger.imports.selectors import import_get

    found = import_get(user=user, import_id=import_id)
    return Import.objects.select_for_update().select_related("account", "user").get(pk=found.pk)


def _async_threshold() -> int:
    return getattr(settings, "LEDGER_IMPORT_ASYNC_ROWS", 5000)


def import_commit(*, user, import_id, force_rows=(), skip_rows=(), run_async: bool | None = None) -> Import:
    """Write a preview into its account, once. force_rows imports rows
    judged duplicates; skip_rows leaves rows out. 409 when the import is not
    a preview any more or has expired (a day after upload)."""
    with db_transaction.atomic():
        source = _lock(user=user, import_id=import_id)
        if source.status != Status.PREVIEW:
            raise Conflict(f"This import is {source.status}, not a preview.", code="import_not_preview")
        if source.expires_at <= timezone.now():
            raise Conflict("This preview has expired; upload the file again.", code="import_expired")
        account_check_open(source.account)
        _without_jit()
        import_rows_classify(source, unless_unchanged=True)  # the ledger may have moved since the preview
        source.force_rows = sorted({int(n) for n in force_rows})
        source.skip_rows = sorted({int(n) for n in skip_rows})
        _reject_reconciled_rows(source)
        _assign_ids(source)
        pending = _candidates(source).count()
        if run_async is None:
            run_async = pending > _async_threshold()
        source.status = Status.RUNNING
        source.processed = 0
        source.save(update_fields=["status", "force_rows", "skip_rows", "processed", "updated_at"])
        if run_async:
            from ledger.imports.tasks import commit_import

            import_id = source.id
            db_transaction.on_commit(lambda: commit_import.delay(str(import_id)))
            return source
        _write(source)
    return source


def import_commit_run(*, import_id) -> dict:
    """The task's body: write a running import, exactly once whatever the
    deliveries. The task holds the import's lease (leases.py) while it
    writes; each batch of rows commits together with its ImportRow links, so
    a delivery that takes over from a dead worker writes only the rows not
    yet linked, then finishes (transfers, status, events) in one transaction.
    A second delivery while the first worker lives leaves the job to it."""
    with import_lease(f"import:{import_id}") as held:
        if not held:
            return {"import_id": str(import_id), "status": Status.RUNNING, "lease": "held by another worker"}
        source = Import.objects.select_related("account", "user").filter(pk=import_id).first()
        if source is None or source.status != Status.RUNNING:
            return {"import_id": str(import_id), "status": source.status if source else "missing"}
        _write(source)
    return {"import_id": str(source.id), "status": source.status, "imported": source.imported_count}


def _assign_ids(source: Import) -> None:
    """The rows this commit writes hold the ids of the transactions they
    become (a new row has one since the preview): a forced duplicate gets
    one, a skipped row gives its up. One statement, writing those rows only."""
    if not source.force_rows and not source.skip_rows:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_importrow SET transaction_id = CASE WHEN row_number = ANY(%(skip)s::int[]) THEN NULL "
            "ELSE coalesce(transaction_id, gen_random_uuid()) END "
            "WHERE source_import_id = %(imp)s AND (row_number = ANY(%(skip)s::int[]) "
            "OR (fate = %(duplicate)s AND row_number = ANY(%(force)s::int[])))",
            {"imp": source.pk, "skip": source.skip_rows, "force": source.force_rows, "duplicate": Fate.DUPLICATE},
        )


def _link_rows(pairs: list[tuple[int, uuid.UUID]]) -> None:
    """Rows of a preview stored before rows held their ids get the id of the row they became."""
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_importrow r SET transaction_id = v.tx "
            "FROM unnest(%s::bigint[], %s::uuid[]) AS v(row_id, tx) WHERE r.id = v.row_id",
            [[p[0] for p in pairs], [p[1] for p in pairs]],
        )


def _candidates(source: Import):
    rows = ImportRow.objects.filter(source_import=source).exclude(row_number__in=source.skip_rows)
    wanted = rows.filter(fate=Fate.NEW) | rows.filter(fate=Fate.DUPLICATE, row_number__in=source.force_rows)
    return wanted.order_by("row_number")


def _reject_reconciled_rows(source: Import) -> None:
    """The preview makes a new row dated on or before the account's
    reconciliation an error; a forced duplicate there, or a reconciliation
    made after the preview, is refused here (409 `reconciled` naming the
    rows): skip them or undo the reconciliation."""
    through = account_reconciled_through(source.account_id)
    if through is None:
        return
    inside = list(_candidates(source).filter(date__lte=through).values_list("row_number", flat=True)[:101])
    if inside:
        raise Conflict(
            f"Rows dated on or before {through.isoformat()}, the date the account is reconciled to, would change "
            "that balance: skip them or undo the reconciliation.",
            code=RECONCILED_CODE,
            fields=["date"],
            reconciled_through=through.isoformat(),
            rows=inside[:100],
        )


def _commit_batch() -> int:
    return getattr(settings, "LEDGER_IMPORT_COMMIT_BATCH", COMMIT_BATCH)


def _notes_of(payee: str | None, description: str | None, notes: str | None) -> str:
    """The description (when the payee became merchant_raw and it says
    something more) and the file's notes."""
    extra = description if payee and description and description.strip() != payee.strip() else ""
    if not extra:
        return notes.strip()[:NOTES_MAX_LENGTH] if notes else ""
    return " ".join(part for part in (extra, notes) if part).strip()[:NOTES_MAX_LENGTH]


def _write(source: Import) -> None:
    """Write the import's rows not written yet, in batches that each commit
    with their ImportRow links (inside a caller's transaction they are
    savepoints), then finish the import in one transaction."""
    user, account = source.user, source.account
    # Each batch commits with its rows: what an earlier delivery wrote is there, the rest is pending.
    written = Transaction.objects.filter(source_import=source).count()
    pending = _candidates(source)
    if written:
        pending = pending.exclude(Exists(Transaction.objects.filter(pk=OuterRef("transaction_id"))))
    # Counts and the date span first; the rows themselves are read a batch at a time (memory flat in the file).
    span = pending.aggregate(count=Count("id"), since=Min("date"), until=Max("date"))
    resolver = CategoryResolver(user)
    base_currency = type(user).objects.values_list("base_currency", flat=True).get(pk=user.pk)
    converter = BulkConverter(
        from_currency=account.currency,
        to_currency=base_currency,
        dates=[day for day in (span["since"], span["until"]) if day is not None],
    )
    decided: dict[tuple, tuple] = {}
    now = timezone.now()
    done = 0
    batch: list[tuple] = []
    links: list[tuple] = []
    unlinked: list[tuple] = []  # rows of a preview stored before rows held ids: linked as they are written
    total = written + span["count"]
    size = _commit_batch()
    shared = _shared_cells(now=now, user=user, account=account, source=source, base_currency=base_currency)

    # The user's rules, compiled once, run on each new row after merchant
    # matching and before it is written (ledger/rules/engine.py).
    ruleset = RuleSet.for_user(user)
    drafts: list[Draft] = []
    with db_transaction.atomic():
        _without_jit()
        plan = _plan_for(source, ruleset, pending) if span["count"] else None
    retry: list = []  # planned rows whose counterpart moved on before their batch (rare): matched at the end
    # What the rows are once written, kept (16 bytes an id) when this delivery writes them all and
    # nothing changes them after their batch (planned: no rule links transfers), so the finish
    # need not read them back.
    kept = (TransactionIds(), set()) if plan is not None and not written else None

    def flush():
        # One transaction per batch: the rows, their links, what rules did
        # and the progress commit together or not at all.
        nonlocal done
        with db_transaction.atomic():
            _without_jit()
            outcome = Outcome(user, ruleset, new_rows=True)
            if ruleset:
                _rules_run(ruleset, outcome, drafts, batch)
            linked, weak, missed = _link_planned(plan, batch, links) if plan else ({}, [], [])
            retry.extend(missed)
            _copy_transactions(batch, shared)
            if kept is not None:
                for row in batch:
                    kept[0].append(row[0])
                    kept[1].add(row[_CATEGORY])
            if weak:
                plan.suggest(weak)
            _mark_transfer_rows(links, transfers=linked)
            if unlinked:
                _link_rows(unlinked)
            outcome.write(import_ref=source.id)
            done += len(batch)
            source.processed = written + done
            Import.objects.filter(pk=source.pk).update(processed=source.processed, updated_at=timezone.now())
        drafts.clear()
        batch.clear()
        links.clear()
        unlinked.clear()
        notify_import_progress(user_id=user.pk, job_id=source.id, processed=source.processed, total=total,
                               status="running")  # fmt: skip

    # The cells the commit needs, read out of the row's JSON by the database (no json.loads per row).
    cells = {f"cell_{name}": KT(f"data__{name}") for name in ("payee", "description", "notes", "category",
                                                                 "bank_category")}  # fmt: skip
    columns = ("id", "row_number", "transaction_id", "date", "amount", "merchant_normalized", "external_id", *cells)
    pending = pending.annotate(**cells)
    last_row = -1
    seen: set[str] = set()  # payee texts an earlier batch matched already
    with _collector_paused():
        while chunk := list(pending.filter(row_number__gt=last_row).values_list(*columns)[:size]):
            last_row = chunk[-1][1]
            texts = [(payee or description or "").strip()[:255] for *_, payee, description, _n, _c, _b in chunk]
            # One match per distinct payee of the import: the resolver keeps what earlier batches matched.
            with db_transaction.atomic():
                _without_jit()  # the bulk match statements spent 0.7 s each compiling at 1M merchants
                fresh = set(texts) - seen
                seen.update(fresh)
                resolver.prefetch(fresh)
            for raw, row in zip(texts, chunk, strict=True):
                row_id, _n, tx_id, date, amount, normalized, external_id, payee, description, notes, category, bank = (
                    row
                )
                if tx_id is None:
                    tx_id = uuid.uuid4()
                    unlinked.append((row_id, tx_id))
                explicit = category if category in _CATEGORIES else None
                notes = _notes_of(payee, description, notes)
                money_in = amount < 0
                key = (normalized, raw, explicit, money_in and income_by_wording(raw, notes))
                decision = decided.get(key)
                if decision is None:
                    merchant, category, confidence = resolver.resolve(normalized=normalized, raw=raw, explicit=explicit,
                                                                      money_in=money_in, notes=notes)  # fmt: skip
                    decision = decided[key] = (merchant.id if merchant else None, category,
                                               copy_text(json.dumps(confidence)),
                                               merchant.canonical_name if merchant else "", confidence,
                                               copy_text(raw), copy_text(normalized))  # fmt: skip
                merchant_id, category, confidence, merchant_name, confidence_dict, raw_cell, normalized_cell = decision
                bank_category = (bank or "")[:100]
                amount_base, rate_date = converter.convert(amount, date)
                batch.append((tx_id, Transaction.Kind.STANDARD, amount, date, raw_cell, normalized_cell, merchant_id,
                              category, bank_category, notes, external_id, confidence, amount_base, rate_date,
                              None))  # fmt: skip
                if ruleset:
                    drafts.append(
                        Draft(id=tx_id, merchant_raw=raw, merchant_id=merchant_id, merchant_name=merchant_name,
                              notes=notes, amount=amount, currency=account.currency, date=date, category=category,
                              confidence=dict(confidence_dict), source=Transaction.Source.IMPORT,
                              account_name=account.name, account_kind=account.kind, bank_category=bank_category,
                              kind=Transaction.Kind.STANDARD)
                    )  # fmt: skip
                links.append((row_id, tx_id))
            flush()
    if plan:
        plan.drop()
    with db_transaction.atomic():
        _without_jit()
        _finish(source, planned=plan is not None, retry=retry, written=kept)


def _finish(source: Import, *, planned: bool = False, retry=(), written=None) -> None:
    """Transfers, counts, status and events, over every row the import
    wrote (by this delivery or an earlier one). The rows are read a batch
    at a time and their ids kept 16 bytes each, so memory stays flat in the
    file's size. Planned (the same-currency pairs were linked as the rows
    went in): only the cross-currency suggestions are left, and the rows
    whose planned counterpart had moved on (`retry`) are matched now.
    Otherwise the written rows are matched a batch at a time, exactly as
    one call would: an import's rows all sit in one account, so none is
    another's counterpart, and each row's candidates are counted over the
    whole ledger. `written`: (ids, categories) of every row, when this
    delivery wrote them all (planned): they are not read back."""
    user = source.user
    ids, categories, matched_categories = TransactionIds(), set(), set()
    source.transfers_matched = 0

    def match(chunk: list) -> None:
        matched = transfers_match(user=user, transaction_ids=chunk, created_by=Transfer.CreatedBy.IMPORT)
        source.transfers_matched += len(matched.transfers)
        matched_categories.update(matched.categories)
        if matched.touched_ids:
            ImportRow.objects.filter(source_import=source, transaction_id__in=matched.touched_ids).update(
                fate=Fate.TRANSFER
            )

    def after_write(chunk: list) -> None:
        if planned:
            transfers_suggest_fx(user=user, transaction_ids=chunk)
        else:
            match(chunk)

    if planned and retry:
        match(list(retry))

    chunk: list = []
    if written is not None:
        ids, categories = written
        # The batches' ids are only needed again for cross-currency suggestions: none with one currency.
        count = len(ids) if len(user_currencies(user.pk)) > 1 else 0
        rows = ((ids[k], None) for k in range(count))
    else:
        rows = Transaction.objects.filter(source_import=source).values_list("id", "category")
        rows = rows.iterator(chunk_size=COMMIT_BATCH)
    for tx_id, category in rows:
        if written is None:
            ids.append(tx_id)
            categories.add(category)
        chunk.append(tx_id)
        if len(chunk) >= COMMIT_BATCH:
            after_write(chunk)
            chunk = []
    if chunk:
        after_write(chunk)
    if planned:
        source.transfers_matched, moved = _planned_transfers(source)
        matched_categories |= moved
    import_file_tags_write(source)
    source.imported_count = len(ids)
    source.processed = len(ids)
    source.status = Status.COMMITTED
    source.committed_at = timezone.now()
    source.save(update_fields=["transfers_matched", "imported_count", "processed", "status", "committed_at",
                               "updated_at"])  # fmt: skip
    if ids:
        announce_transactions_changed(
            user_id=user.pk, action="imported", categories=categories | matched_categories, transaction_ids=ids
        )
    summary = _summary(source)
    user_id, import_id = user.pk, source.id
    notify_import_committed(user_id=user_id, import_id=import_id, summary=summary)


def _planned_transfers(source: Import) -> tuple[int, set]:
    """How many transfers the import's matching linked (by every delivery),
    and the categories whose totals they moved."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), array_agg(DISTINCT tr.out_category), array_agg(DISTINCT tr.in_category) "
            "FROM ledger_transaction t JOIN ledger_transfer tr ON tr.id = t.transfer_id "
            "WHERE t.source_import_id = %s AND tr.created_by = %s",
            [source.pk, Transfer.CreatedBy.IMPORT],
        )
        count, outs, ins = cursor.fetchone()
    if not count:
        return 0, set()
    return count, {Category.TRANSFERS, *outs, *ins}


def _summary(source: Import) -> dict:
    return {
        "account_id": str(source.account_id),
        "imported": source.imported_count,
        "duplicates": source.duplicate_count,
        "errors": source.error_count,
        "transfers_matched": source.transfers_matched,
    }


def import_fail(*, import_id, error: str) -> None:
    """A commit task that gave up: the import ends failed, never running forever."""
    Import.objects.filter(pk=import_id, status=Status.RUNNING).update(
        status=Status.FAILED, error=error[:2000], updated_at=timezone.now()
    )


def import_revert(*, user, import_id) -> Import:
    """Undo a committed import: the rows it created are soft-deleted (a
    matched transfer with another account's row is unlinked, that row stays),
    budgets re-evaluated through the usual event. All or nothing: when any
    of its rows has been reconciled since, the whole revert is refused (409
    `reconciled`, naming them), since reverting the rest would leave a
    half-imported statement and deleting those would move a reconciled
    balance; undo the reconciliation first."""
    from ledger.books.guards import reject_reconciled_delete
    from ledger.books.matching import transfers_unlink

    with db_transaction.atomic():
        source = _lock(user=user, import_id=import_id)
        # A failed commit may have written some batches before it stopped: those can be removed the same way.
        if source.status not in (Status.COMMITTED, Status.FAILED):
            raise Conflict(f"Only a committed (or failed) import can be reverted; this one is {source.status}.",
                           code="import_not_committed")  # fmt: skip
        live = Transaction.objects.filter(source_import=source, is_deleted=False)
        reject_reconciled_delete(live)
        categories = set(live.values_list("category", flat=True))
        categories |= transfers_unlink(
            transfers=Transfer.objects.filter(out_leg__in=live) | Transfer.objects.filter(in_leg__in=live)
        )
        ids = list(live.values_list("id", flat=True))
        now = timezone.now()
        Transaction.objects.filter(id__in=ids).update(is_deleted=True, deleted_at=now, updated_at=now)
        source.status = Status.REVERTED
        source.reverted_at = now
        source.save(update_fields=["status", "reverted_at", "updated_at"])
        if ids:
            announce_transactions_changed(user_id=user.pk, action="deleted", categories=categories, transaction_ids=ids)
    return source
