from django.db.models import Q, QuerySet

from config.selectors import get_or_not_found
from ledger.models import Import, ImportJob, ImportProfile, ImportRow, Rule, Transaction, TransactionChange


def import_job_get(*, user, job_id) -> ImportJob:
    return get_or_not_found(ImportJob.objects.defer("content").filter(user=user), "Import job not found.", id=job_id)


def import_list(*, user) -> QuerySet[Import]:
    return Import.objects.filter(user=user).select_related("account", "profile").order_by("-created_at", "-id")


def import_get(*, user, import_id) -> Import:
    return get_or_not_found(import_list(user=user), "Import not found.", id=import_id)


def import_rows(*, source: Import, fate: str | None = None) -> QuerySet[ImportRow]:
    rows = ImportRow.objects.filter(source_import=source).order_by("row_number")
    return rows.filter(fate=fate) if fate else rows


def import_rows_with_rules(*, source: Import, rows) -> list[ImportRow]:
    """The rows, each with `rules` (the rules that changed the transaction it
    wrote at commit: [{id, name}], in the order they acted) and
    `rule_changes` ([{field, old, new, rule}]), read from the audit trail
    the commit wrote (by rule, with this import). A preview row, or a row no
    rule changed, has empty lists. Three queries for a page, whatever its size."""
    rows = list(rows)
    for row in rows:
        row.rules, row.rule_changes = [], []
    # A row to be written holds its transaction's id from the preview on: shown once the row is there.
    planned = [row.transaction_id for row in rows if row.transaction_id]
    written = set(Transaction.objects.filter(id__in=planned).values_list("id", flat=True)) if planned else set()
    by_tx = {}
    for row in rows:
        if row.transaction_id in written:
            by_tx[row.transaction_id] = row
        else:
            row.transaction_id = None
    if not by_tx:
        return rows
    changes = list(
        TransactionChange.objects.filter(
            transaction_id__in=list(by_tx), by=TransactionChange.By.RULE, import_ref=source.id
        )
        .order_by("at", "id")
        .values_list("transaction_id", "rule_id", "field", "old", "new")
    )
    names = dict(Rule.objects.filter(id__in={c[1] for c in changes if c[1]}).values_list("id", "name"))
    for tx_id, rule_id, field, old, new in changes:
        row = by_tx[tx_id]
        row.rule_changes.append({"field": field, "old": old, "new": new, "rule": rule_id})
        if all(r["id"] != rule_id for r in row.rules):
            # A rule deleted since: its changes stay in the audit (rule null), shown as a rule without id or name.
            row.rules.append({"id": rule_id, "name": names.get(rule_id)})
    return rows


def import_profile_list(*, user) -> QuerySet[ImportProfile]:
    """The built-in profiles and the user's own, built-ins first."""
    return ImportProfile.objects.filter(Q(user__isnull=True) | Q(user=user)).order_by("user_id", "name")


def import_profile_get(*, user, profile_id) -> ImportProfile:
    return get_or_not_found(import_profile_list(user=user), "Import profile not found.", id=profile_id)
