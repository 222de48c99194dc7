"""Transfer matching: linking the two rows one movement of money leaves in
two of a user's accounts (a card payment out of checking and into the card).

A candidate pair is two live, standard, unlinked rows of one user in two
different accounts, opposite amounts, at most MATCH_DAYS apart, never
rejected before. Unlike a greedy closest-first pass, a pair links on its own
only when it is unambiguous: each leg has exactly one candidate (so no leg
can be linked twice and no guess is made between two equal payments);
every other pair, and every cross-currency pair (converted amount within
FX_TOLERANCE), becomes a suggestion for the user to confirm or reject.

Nothing here sends events: callers (transaction create, import, the
transfer services) fold the touched rows into their one after-commit round.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from config.exceptions import Conflict, DomainError, NotFound
from ledger.books import fx
from ledger.models import Account, Transaction, Transfer, TransferSuggestion
from merchants.categories import Category

MATCH_DAYS = 4
FX_TOLERANCE = Decimal("0.05")
_STANDARD = Transaction.Kind.STANDARD

# Same-currency candidates of the seed rows, each pair as (out, in, days apart).
# Driven by the seed ids and probing the (user, amount, date) index once per
# seed (LATERAL): right after an import's COPY the table's statistics are
# stale, and a planner free to pick the join order scanned seeds x rows.
_EDGES_SQL = f"""
SELECT CASE WHEN s.amount > 0 THEN s.id ELSE c.id END AS out_id,
       CASE WHEN s.amount > 0 THEN c.id ELSE s.id END AS in_id,
       abs(s.date - c.date) AS diff
FROM unnest(%s::uuid[]) AS seed(id)
JOIN ledger_transaction s ON s.id = seed.id
CROSS JOIN LATERAL (
    SELECT c.id, c.date FROM ledger_transaction c
    WHERE c.user_id = s.user_id AND c.amount = -s.amount
      AND c.date BETWEEN s.date - {MATCH_DAYS} AND s.date + {MATCH_DAYS}
      AND NOT c.is_deleted AND c.transfer_id IS NULL AND c.kind = '{_STANDARD}'
      AND c.account_id <> s.account_id AND c.currency = s.currency
) AS c
WHERE NOT s.is_deleted AND s.transfer_id IS NULL AND s.kind = '{_STANDARD}'
"""

# Cross-currency candidates: for each (seed, other currency, low, high) the
# rows in that currency whose amount lies in the converted range.
_FX_EDGES_SQL = f"""
SELECT CASE WHEN s.amount > 0 THEN s.id ELSE c.id END,
       CASE WHEN s.amount > 0 THEN c.id ELSE s.id END,
       abs(s.date - c.date)
FROM unnest(%s::uuid[], %s::text[], %s::numeric[], %s::numeric[]) AS w(seed, currency, lo, hi)
JOIN ledger_transaction s ON s.id = w.seed
JOIN ledger_transaction c
  ON c.user_id = s.user_id AND c.currency = w.currency AND c.amount BETWEEN w.lo AND w.hi
 AND c.date BETWEEN s.date - {MATCH_DAYS} AND s.date + {MATCH_DAYS}
 AND NOT c.is_deleted AND c.transfer_id IS NULL AND c.kind = '{_STANDARD}' AND c.account_id <> s.account_id
WHERE NOT s.is_deleted AND s.transfer_id IS NULL AND s.kind = '{_STANDARD}'
"""


@dataclass
class MatchOutcome:
    transfers: list = field(default_factory=list)
    suggestions: int = 0
    touched_ids: set = field(default_factory=set)
    categories: set = field(default_factory=set)


def _rejected(user_id, pairs) -> set:
    """The user's remembered rejections among `pairs` (usually none: one indexed probe)."""
    if not pairs:
        return set()
    rejected = TransferSuggestion.objects.filter(user_id=user_id, status=TransferSuggestion.Status.REJECTED)
    if not rejected.exists():
        return set()
    return set(rejected.filter(out_leg_id__in=[p[0] for p in pairs]).values_list("out_leg_id", "in_leg_id"))


def _edges(user_id, ids) -> dict:
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_EDGES_SQL, [list(ids)])
        rows = cursor.fetchall()
    edges = {(out_id, in_id): diff for out_id, in_id, diff in rows}
    for pair in _rejected(user_id, edges):
        edges.pop(pair, None)
    return edges


def _fx_edges(*, user_id, ids) -> dict:
    """Cross-currency candidates of the seeds; needs a rate for the seed's date."""
    currencies = set(Account.objects.filter(user_id=user_id).values_list("currency", flat=True).distinct())
    if len(currencies) < 2 or not ids:
        return {}
    seeds = list(Transaction.objects.filter(id__in=ids).values_list("id", "amount", "currency", "date"))
    args: tuple[list, list, list, list] = ([], [], [], [])
    for seed_id, amount, currency, date in seeds:
        for other in currencies - {currency}:
            converted = fx.convert(-amount, currency, other, date)
            if converted is None:
                continue
            bounds = sorted((converted * (1 - FX_TOLERANCE), converted * (1 + FX_TOLERANCE)))
            for target, value in zip(args, (seed_id, other, bounds[0], bounds[1]), strict=True):
                target.append(value)
    if not args[0]:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_FX_EDGES_SQL, list(args))
        rows = cursor.fetchall()
    edges = {(out_id, in_id): diff for out_id, in_id, diff in rows}
    for pair in _rejected(user_id, edges):
        edges.pop(pair, None)
    return edges


def _suggest(*, user_id, edges: dict) -> int:
    if not edges:
        return 0
    now = timezone.now()
    created = TransferSuggestion.objects.bulk_create(
        [
            TransferSuggestion(user_id=user_id, out_leg_id=o, in_leg_id=i, date_diff=d, created_at=now, updated_at=now)
            for (o, i), d in edges.items()
        ],
        ignore_conflicts=True,  # an existing suggestion (or a remembered rejection) stays as it is
    )
    return len(created)


def transfers_match(*, user, transaction_ids, created_by: str = Transfer.CreatedBy.MATCH) -> MatchOutcome:
    """Match the given new rows against the user's ledger: link the
    unambiguous pairs, suggest the rest. Runs inside the caller's atomic block."""
    outcome = MatchOutcome()
    ids = list(transaction_ids)
    if not ids:
        return outcome
    seed_edges = _edges(user.pk, ids)
    endpoints = {leg for pair in seed_edges for leg in pair}
    # Degrees over every candidate the endpoints have, not only the seeds':
    # an old row with two possible counterparts is ambiguous too.
    all_edges = {**seed_edges, **_edges(user.pk, endpoints - set(ids))}
    degree: dict = {}
    for out_id, in_id in all_edges:
        degree[out_id] = degree.get(out_id, 0) + 1
        degree[in_id] = degree.get(in_id, 0) + 1
    to_suggest, strong = {}, []
    for (out_id, in_id), diff in seed_edges.items():
        if degree[out_id] == 1 and degree[in_id] == 1:
            strong.append((out_id, in_id))
        else:
            to_suggest[(out_id, in_id)] = diff
    if strong:
        outcome.transfers, outcome.categories = transfers_link(user=user, pairs=strong, created_by=created_by)
        outcome.touched_ids.update(leg for pair in strong for leg in pair)
    fx_edges = _fx_edges(user_id=user.pk, ids=[i for i in ids if i not in outcome.touched_ids])
    to_suggest.update({pair: diff for pair, diff in fx_edges.items() if not set(pair) & outcome.touched_ids})
    outcome.suggestions = _suggest(user_id=user.pk, edges=to_suggest)
    return outcome


def transfers_mark(*, user, marks: dict, created_by: str = Transfer.CreatedBy.MATCH) -> MatchOutcome:
    """Rows the user (through a rule) says are transfers: {row id: account
    id of the counterpart, or None for any other account}. A row with exactly
    one candidate there is linked to it, whatever other candidates that
    counterpart has (the user said so); a row with several becomes one
    suggestion per candidate. A candidate is a same-currency row of the
    opposite amount; only a row with none of those there gets the
    other-currency rows whose amount is its own converted within
    FX_TOLERANCE (no rate for the day: no such candidate, never a guess).
    Runs inside the caller's atomic block."""
    outcome = MatchOutcome()
    edges = _edges(user.pk, list(marks))
    candidates = _mark_candidates(marks, edges)
    unpaired = [row for row, pairs in candidates.items() if not pairs]
    if unpaired:
        fx_edges = _fx_edges(user_id=user.pk, ids=unpaired)
        edges = {**fx_edges, **edges}
        for row, pairs in _mark_candidates({row: marks[row] for row in unpaired}, fx_edges).items():
            candidates[row] = pairs
    strong, used, to_suggest = [], set(), {}
    for row in sorted(candidates, key=str):
        pairs = [pair for pair in candidates[row] if not set(pair) & used]
        if len(pairs) == 1:
            strong.append(pairs[0])
            used.update(pairs[0])
        else:
            to_suggest.update({pair: edges[pair] for pair in pairs})
    if strong:
        outcome.transfers, outcome.categories = transfers_link(user=user, pairs=strong, created_by=created_by)
        outcome.touched_ids.update(used)
    outcome.suggestions = _suggest(
        user_id=user.pk, edges={pair: diff for pair, diff in to_suggest.items() if not set(pair) & used}
    )
    return outcome


def _mark_candidates(marks: dict, edges: dict) -> dict:
    """{marked row: its candidate pairs in the account its mark names (any other account for None)}."""
    others = {leg for pair in edges for leg in pair} - set(marks)
    accounts = dict(Transaction.objects.filter(id__in=others | set(marks)).values_list("id", "account_id"))
    candidates: dict = {row: [] for row in marks}
    for pair in edges:
        for row, other in ((pair[0], pair[1]), (pair[1], pair[0])):
            target = marks.get(row, False)
            if target is not False and (target is None or accounts.get(other) == target):
                candidates[row].append(pair)
    return candidates


def transfer_link(*, user, out_id, in_id, created_by: str) -> tuple[Transfer, set]:
    """Link two existing rows as one transfer. -> (transfer, categories whose totals moved)."""
    transfers, categories = transfers_link(user=user, pairs=[(out_id, in_id)], created_by=created_by)
    return transfers[0], categories


def transfers_link(*, user, pairs: list[tuple], created_by: str) -> tuple[list[Transfer], set]:
    """Link pairs of existing rows as transfers in a few statements whatever
    their number (an import links hundreds). All legs are locked in id order
    (two concurrent links never deadlock) and re-checked under the lock.
    -> (transfers, categories whose totals moved)."""
    ids = [leg for pair in pairs for leg in pair]
    if len(set(ids)) != len(ids):
        raise Conflict("A transaction can be a leg of one transfer only.", code="already_linked")
    legs = {
        tx.id: tx
        for tx in Transaction.objects.select_for_update(of=("self",))
        .filter(id__in=ids, user=user, is_deleted=False)
        .order_by("id")
        .only("id", "account_id", "amount", "currency", "kind", "transfer_id", "category")
    }
    categories, transfers, now = {Category.TRANSFERS}, [], timezone.now()
    for out_id, in_id in pairs:
        out_leg, in_leg = legs.get(out_id), legs.get(in_id)
        if out_leg is None or in_leg is None:
            raise NotFound("Both legs must be two live transactions of yours.")
        if out_leg.transfer_id or in_leg.transfer_id or out_leg.kind != _STANDARD or in_leg.kind != _STANDARD:
            raise Conflict(
                "One of these transactions is already a transfer leg or an adjustment.", code="already_linked"
            )
        if out_leg.account_id == in_leg.account_id:
            raise DomainError("A transfer moves money between two different accounts.", code="same_account")
        if not (out_leg.amount > 0 > in_leg.amount):
            raise DomainError("out_id must be money out (positive) and in_id money in (negative).", code="direction")
        if out_leg.currency == in_leg.currency and out_leg.amount != -in_leg.amount:
            raise DomainError("In one currency the two legs must have opposite amounts.", code="amount_mismatch")
        categories |= {out_leg.category, in_leg.category}
        transfers.append(
            Transfer(
                user=user,
                out_leg_id=out_id,
                in_leg_id=in_id,
                created_by=created_by,
                out_category=out_leg.category,
                in_category=in_leg.category,
                created_at=now,
                updated_at=now,
            )
        )
    Transfer.objects.bulk_create(transfers)
    values = ", ".join(["(%s::uuid, %s::uuid)"] * (2 * len(transfers)))
    params = [str(v) for t in transfers for v in (t.out_leg_id, t.id, t.in_leg_id, t.id)]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_transaction AS t SET kind = %s, transfer_id = v.transfer_id, category = %s, "  # noqa: S608
            f"updated_at = %s FROM (VALUES {values}) AS v(id, transfer_id) WHERE t.id = v.id",
            [Transaction.Kind.TRANSFER, Category.TRANSFERS, now, *params],
        )
    open_suggestions = TransferSuggestion.objects.filter(status=TransferSuggestion.Status.OPEN)
    open_suggestions.filter(out_leg_id__in=ids).delete()
    open_suggestions.filter(in_leg_id__in=ids).delete()
    return transfers, categories


def transfer_unlink(*, transfer: Transfer) -> set:
    """Both legs back to standard rows with the categories they had before.
    -> the categories whose totals moved."""
    return transfers_unlink(transfers=[transfer])


def transfers_unlink(*, transfers) -> set:
    """transfer_unlink for many transfers in two statements (a bulk delete
    or an import revert ends hundreds). -> the categories whose totals moved."""
    transfers = list(transfers)
    if not transfers:
        return set()
    legs, categories, owners = [], [], []
    for transfer in transfers:
        for leg_id, category in (
            (transfer.out_leg_id, transfer.out_category),
            (transfer.in_leg_id, transfer.in_category),
        ):
            legs.append(leg_id)
            categories.append(category or Category.UNCATEGORIZED)
            owners.append(transfer.id)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_transaction AS t SET kind = %s, transfer_id = NULL, category = v.category, updated_at = %s "
            "FROM unnest(%s::uuid[], %s::text[], %s::uuid[]) AS v(id, category, transfer_id) "
            "WHERE t.id = v.id AND t.transfer_id = v.transfer_id",
            [_STANDARD, timezone.now(), legs, categories, owners],
        )
    Transfer.objects.filter(id__in=owners).delete()
    return {Category.TRANSFERS, *categories}
