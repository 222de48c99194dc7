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
from django.utils import timezone
from rest_framework.exceptions import NotFound

from config.exceptions import Conflict, DomainError
from config.ids import ordered_ids
from ledger.models import Tag, Transaction, TransactionChange
from ledger.transactions.audit import AUDIT_COLUMNS, By

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

    One statement for a bulk edit's 10,000 rows: the current pairs are read,
    the pairs to drop deleted, the new ones inserted and the audit rows (the
    names before and after, sorted case-insensitively) written by the server,
    with no pair or name list travelling to Python and back."""
    ids = [tx_id if isinstance(tx_id, uuid.UUID) else uuid.UUID(str(tx_id)) for tx_id in transaction_ids]
    ids = list(dict.fromkeys(ids))
    if not ids:
        return 0
    add_ids = list(dict.fromkeys(tag.id for tag in (replace if replace is not None else add)))
    remove_ids = [] if replace is not None else list(dict.fromkeys(tag.id for tag in remove))
    if not add_ids and not remove_ids and replace is None:
        return 0
    params = {
        "ids": ids,
        "add": add_ids,
        "remove": remove_ids,
        "replace": replace is not None,
        "audit": audit,
        "audit_ids": ordered_ids(len(ids)) if audit else [],
        "by": by,
        "actor": getattr(actor, "pk", actor),
        "rule": rule_id,
        "import_ref": import_ref,
        "at": timezone.now(),
    }
    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            # Its plan costs past jit_above_cost at 10,000 rows: compiling it took longer (~1 s) than running it.
            cursor.execute("SET LOCAL jit = off")
        cursor.execute(_TAGS_CHANGE_SQL, params)
        return cursor.fetchone()[0]


# Set-based, no work per row outside the joins: the pairs to drop and to add,
# then per touched row its tag ids before and after (sorted, so equal sets
# compare equal); names are looked up once per distinct set of tags.
_TAGS_CHANGE_SQL = f"""
WITH v AS MATERIALIZED (
    SELECT v.tx, v.n FROM unnest(%(ids)s::uuid[]) WITH ORDINALITY AS v(tx, n)
), cur AS MATERIALIZED (
    SELECT tt.transaction_id AS tx, tt.tag_id AS tag FROM {TransactionTag._meta.db_table} tt
    WHERE tt.transaction_id = ANY(%(ids)s::uuid[])
), drop_pairs AS MATERIALIZED (
    SELECT tx, tag FROM cur
    WHERE tag = ANY(%(remove)s::uuid[]) OR (%(replace)s AND NOT tag = ANY(%(add)s::uuid[]))
), add_pairs AS MATERIALIZED (
    SELECT v.tx, a.tag FROM v CROSS JOIN unnest(%(add)s::uuid[]) AS a(tag)
    EXCEPT SELECT tx, tag FROM cur
), dropped AS (
    DELETE FROM {TransactionTag._meta.db_table} tt USING drop_pairs d
    WHERE tt.transaction_id = d.tx AND tt.tag_id = d.tag
), added AS (
    INSERT INTO {TransactionTag._meta.db_table} (transaction_id, tag_id)
    SELECT tx, tag FROM add_pairs ON CONFLICT DO NOTHING
), touched AS MATERIALIZED (
    SELECT tx FROM drop_pairs UNION SELECT tx FROM add_pairs
), kept AS (
    SELECT c.tx, c.tag FROM cur c JOIN touched USING (tx) WHERE %(audit)s
), before_sets AS (
    SELECT tx, array_agg(tag ORDER BY tag) AS tags FROM kept GROUP BY tx
), after_sets AS (
    SELECT tx, array_agg(tag ORDER BY tag) AS tags
    FROM ((SELECT tx, tag FROM kept EXCEPT ALL SELECT tx, tag FROM drop_pairs) UNION ALL
          SELECT tx, tag FROM add_pairs) AS s
    WHERE %(audit)s GROUP BY tx
), row_sets AS MATERIALIZED (
    SELECT v.tx, v.n, coalesce(b.tags, '{{}}') AS before, coalesce(a.tags, '{{}}') AS after
    FROM v JOIN touched USING (tx) LEFT JOIN before_sets b USING (tx) LEFT JOIN after_sets a USING (tx)
    WHERE %(audit)s
), sets AS MATERIALIZED (
    SELECT s.tags, (SELECT coalesce(jsonb_agg(t.name ORDER BY lower(t.name) COLLATE "C"), '[]'::jsonb)
                    FROM {Tag._meta.db_table} t WHERE t.id = ANY(s.tags)) AS names
    FROM (SELECT before AS tags FROM row_sets UNION SELECT after FROM row_sets) AS s
), audited AS (
    INSERT INTO {TransactionChange._meta.db_table} ({AUDIT_COLUMNS})
    SELECT (%(audit_ids)s::uuid[])[r.n], r.tx, 'tags', b.names, a.names,
           %(by)s, %(actor)s, %(rule)s, %(import_ref)s, '', %(at)s
    FROM row_sets r JOIN sets b ON b.tags = r.before JOIN sets a ON a.tags = r.after
)
SELECT count(*) FROM touched
"""


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
