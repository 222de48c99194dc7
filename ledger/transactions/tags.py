"""Tags: per-user labels, unique whatever their case. Every change of a
transaction's tags goes through `transaction_tags_change`, which writes the
M2M rows and the audit trail in a constant number of statements for any
number of transactions."""

import uuid
from collections import defaultdict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, connection
from django.db import transaction as db_transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from rest_framework.exceptions import NotFound

from config.exceptions import Conflict, DomainError
from ledger.models import Tag, Transaction
from ledger.transactions.audit import By, Change, changes_record

TransactionTag = Transaction.tags.through
TAG_NAME_MAX = 64
MAX_TAGS_PER_CALL = 50


def tag_list(*, user):
    """The user's tags, by name, each with the number of live transactions carrying it."""
    return (
        Tag.objects.filter(user=user)
        .annotate(count=Count("transactions", filter=Q(transactions__is_deleted=False)))
        .order_by(Lower("name"), "id")
    )


def tag_get(*, user, tag_id) -> Tag:
    try:
        return Tag.objects.get(user=user, id=tag_id)
    except (Tag.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Tag not found.")


def clean_tag_name(name) -> str:
    if not isinstance(name, str) or not name.strip():
        raise DomainError("A tag name must be a non-empty string.", code="invalid_tag")
    name = " ".join(name.split())
    if len(name) > TAG_NAME_MAX:
        raise DomainError(f"A tag name has at most {TAG_NAME_MAX} characters.", code="invalid_tag")
    return name


def _duplicate(user, name, exclude_id=None) -> Conflict:
    existing = Tag.objects.filter(user=user, name__iexact=name).exclude(id=exclude_id).first()
    return Conflict(
        f'A tag named "{name}" already exists (merge into it instead).',
        code="duplicate",
        existing_id=str(existing.id) if existing else None,
    )


def tag_create(*, user, name: str, color: str = "") -> Tag:
    name = clean_tag_name(name)
    try:
        with db_transaction.atomic():
            return Tag.objects.create(user=user, name=name, color=color or "")
    except IntegrityError:
        raise _duplicate(user, name)


def tag_update(*, tag: Tag, **changes) -> Tag:
    if "name" in changes:
        tag.name = clean_tag_name(changes["name"])
    if "color" in changes:
        tag.color = changes["color"] or ""
    try:
        with db_transaction.atomic():
            tag.save()
    except IntegrityError:
        raise _duplicate(tag.user, tag.name, exclude_id=tag.id)
    return tag


def tags_resolve(*, user, names, create: bool = True, missing_ok: bool = False) -> list[Tag]:
    """The user's tags for these names (case-insensitive), created when
    missing (create=True), skipped (missing_ok) or a 400 naming the unknown ones."""
    wanted: dict[str, str] = {}
    for name in names:
        name = clean_tag_name(name)
        wanted.setdefault(name.lower(), name)
    if len(wanted) > MAX_TAGS_PER_CALL:
        raise DomainError(f"At most {MAX_TAGS_PER_CALL} tags at once.", code="too_many_tags")
    if not wanted:
        return []
    found = {t.name.lower(): t for t in Tag.objects.annotate(lname=Lower("name")).filter(user=user, lname__in=wanted)}
    missing = [wanted[key] for key in wanted if key not in found]
    if missing and not create:
        if missing_ok:
            return [found[key] for key in wanted if key in found]
        raise DomainError(f"Unknown tag(s): {', '.join(missing)}.", code="unknown_tag")
    if missing:
        # ignore_conflicts: a concurrent request may create the same name; read back after.
        Tag.objects.bulk_create([Tag(user=user, name=name) for name in missing], ignore_conflicts=True)
        found = {
            t.name.lower(): t for t in Tag.objects.annotate(lname=Lower("name")).filter(user=user, lname__in=wanted)
        }
    return [found[key] for key in wanted]


def tag_names_by_transaction(transaction_ids) -> dict:
    """{transaction id: sorted tag names} for these transactions (one query)."""
    names = defaultdict(list)
    rows = TransactionTag.objects.filter(transaction_id__in=list(transaction_ids)).values_list(
        "transaction_id", "tag__name"
    )
    for tx_id, name in rows:
        names[tx_id].append(name)
    return {tx_id: sorted(values, key=str.lower) for tx_id, values in names.items()}


def transaction_tags_change(
    *,
    transaction_ids,
    add=(),
    remove=(),
    replace=None,
    by: str = By.USER,
    actor=None,
    rule_id=None,
    import_ref=None,
    audit: bool = True,
) -> int:
    """Add and remove tags (Tag objects of the transactions' owner) on many
    transactions, or `replace` their tags with exactly these. One audit row
    per transaction whose tags changed; returns how many changed.

    Set-based for a bulk edit's 10,000 rows: the current pairs are read once
    (ids as one array, no join), the before and after name lists are worked
    out here from them, and the deletes and inserts are one statement each."""
    ids = [tx_id if isinstance(tx_id, uuid.UUID) else uuid.UUID(str(tx_id)) for tx_id in transaction_ids]
    ids = list(dict.fromkeys(ids))
    if not ids:
        return 0
    table = TransactionTag._meta.db_table
    current = defaultdict(set)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT transaction_id, tag_id FROM {table} WHERE transaction_id = ANY(%s::uuid[])", [ids])
        for tx_id, tag_id in cursor.fetchall():
            current[tx_id].add(tag_id)
    if replace is not None:
        add = list(replace)
        keep = {t.id for t in replace}
        drop_pairs = [(tx_id, tag_id) for tx_id in ids for tag_id in current[tx_id] if tag_id not in keep]
    else:
        remove_ids = {t.id for t in remove}
        drop_pairs = [(tx_id, tag_id) for tx_id in ids for tag_id in current[tx_id] & remove_ids]
    add_pairs = [(tx_id, tag.id) for tx_id in ids for tag in add if tag.id not in current[tx_id]]
    with connection.cursor() as cursor:
        if drop_pairs:
            cursor.execute(
                f"DELETE FROM {table} t USING unnest(%s::uuid[], %s::uuid[]) AS v(tx, tag) "
                "WHERE t.transaction_id = v.tx AND t.tag_id = v.tag",
                [[tx for tx, _ in drop_pairs], [tag for _, tag in drop_pairs]],
            )
        if add_pairs:
            cursor.execute(
                f"INSERT INTO {table} (transaction_id, tag_id) SELECT * FROM unnest(%s::uuid[], %s::uuid[]) "
                "ON CONFLICT DO NOTHING",
                [[tx for tx, _ in add_pairs], [tag for _, tag in add_pairs]],
            )
    touched = {tx_id for tx_id, _ in drop_pairs} | {tx_id for tx_id, _ in add_pairs}
    if not touched or not audit:
        return len(touched)
    dropped, added = defaultdict(set), defaultdict(set)
    for tx_id, tag_id in drop_pairs:
        dropped[tx_id].add(tag_id)
    for tx_id, tag_id in add_pairs:
        added[tx_id].add(tag_id)
    names = {t.id: t.name for t in (*add, *remove)}
    unknown = {tag_id for tx_id in touched for tag_id in current[tx_id]} - set(names)
    if unknown:
        names.update(Tag.objects.filter(id__in=unknown).values_list("id", "name"))
    by_lower = str.lower

    def listed(tag_ids):
        return sorted((names[tag_id] for tag_id in tag_ids), key=by_lower)

    changes_record(
        [
            Change(tx_id, "tags", listed(current[tx_id]), listed((current[tx_id] - dropped[tx_id]) | added[tx_id]))
            for tx_id in ids
            if tx_id in touched
        ],
        by=by,
        actor=actor,
        rule_id=rule_id,
        import_ref=import_ref,
    )
    return len(touched)


@db_transaction.atomic
def tag_delete(*, tag: Tag, actor=None) -> int:
    """Delete a tag; the transactions carrying it lose it (audited)."""
    ids = list(TransactionTag.objects.filter(tag=tag).values_list("transaction_id", flat=True))
    changed = transaction_tags_change(transaction_ids=ids, remove=[tag], by=By.USER, actor=actor)
    tag.delete()
    return changed


@db_transaction.atomic
def tag_merge(*, tag: Tag, into: Tag, actor=None) -> Tag:
    """Move every transaction of `tag` to `into`, then delete `tag` (audited)."""
    if tag.id == into.id:
        raise DomainError("A tag cannot be merged into itself.", code="same_tag")
    ids = list(TransactionTag.objects.filter(tag=tag).values_list("transaction_id", flat=True))
    transaction_tags_change(transaction_ids=ids, add=[into], remove=[tag], by=By.USER, actor=actor)
    tag.delete()
    return into
