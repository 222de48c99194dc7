"""Tags: per-user labels, unique whatever their case. Every change of a
transaction's tags goes through `transaction_tags_change`, which writes the
M2M rows and the audit trail in a constant number of statements for any
number of transactions."""

from collections import defaultdict

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
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
    per transaction whose tags changed; returns how many changed."""
    ids = list(dict.fromkeys(transaction_ids))
    if not ids:
        return 0
    before = tag_names_by_transaction(ids)
    current = defaultdict(set)
    for tx_id, tag_id in TransactionTag.objects.filter(transaction_id__in=ids).values_list("transaction_id", "tag_id"):
        current[tx_id].add(tag_id)
    names = {}
    if replace is not None:
        add, remove = list(replace), []
        keep = {t.id for t in replace}
        drop_pairs = [(tx_id, tag_id) for tx_id in ids for tag_id in current[tx_id] if tag_id not in keep]
    else:
        remove_ids = {t.id for t in remove}
        drop_pairs = [(tx_id, tag_id) for tx_id in ids for tag_id in current[tx_id] & remove_ids]
    for tag in (*add, *remove):
        names[tag.id] = tag.name
    add_pairs = [(tx_id, tag.id) for tx_id in ids for tag in add if tag.id not in current[tx_id]]
    if drop_pairs:
        by_tag = defaultdict(list)
        for tx_id, tag_id in drop_pairs:
            by_tag[tag_id].append(tx_id)
        for tag_id, tx_ids in by_tag.items():
            TransactionTag.objects.filter(tag_id=tag_id, transaction_id__in=tx_ids).delete()
    if add_pairs:
        TransactionTag.objects.bulk_create(
            [TransactionTag(transaction_id=tx_id, tag_id=tag_id) for tx_id, tag_id in add_pairs],
            batch_size=5000,
            ignore_conflicts=True,
        )
    touched = {tx_id for tx_id, _ in drop_pairs} | {tx_id for tx_id, _ in add_pairs}
    if not touched or not audit:
        return len(touched)
    after = tag_names_by_transaction(touched)
    changes_record(
        [Change(tx_id, "tags", before.get(tx_id, []), after.get(tx_id, [])) for tx_id in ids if tx_id in touched],
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
