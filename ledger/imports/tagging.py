"""A file's `tags` column (Tally's export writes one; the one-call import
reads it): each committed row gets its tags, one audit row (by import) per
row whose tags changed. Runs in the commit's finishing transaction, so the
tags arrive exactly once, with the import's status change."""

from collections import defaultdict

from ledger.models import Import, ImportRow, TransactionChange
from ledger.rules.engine import tags_resolve_many
from ledger.transactions.services import transaction_tags_change


def import_file_tags_write(source: Import) -> int:
    """Add each written row's file tags to its transaction (tags rules set stay). -> rows tagged."""
    # The rows written (a row holds its transaction's id from the preview on, so the join says which are).
    rows = ImportRow.objects.filter(source_import=source, transaction__source_import=source, data__has_key="tags")
    groups: dict[frozenset, list] = defaultdict(list)
    names: set[str] = set()
    for tx_id, tags in rows.values_list("transaction_id", "data__tags").iterator(chunk_size=5000):
        if tags:
            names.update(tags)
            groups[frozenset(name.lower() for name in tags)].append(tx_id)
    if not groups:
        return 0
    by_name = {tag.name.lower(): tag for tag in tags_resolve_many(source.user, names)}
    tagged = 0
    for key, tx_ids in groups.items():
        tagged += transaction_tags_change(
            transaction_ids=tx_ids,
            add=[by_name[name] for name in sorted(key)],
            by=TransactionChange.By.IMPORT,
            import_ref=source.id,
        )
    return tagged
