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

# The candidate rule, for a row `s` and a counterpart `c` (same user, given
# as a constant so every plan can use the user's indexes).
_CANDIDATE = f"""
c.user_id = %(user)s AND c.amount = -s.amount AND c.date BETWEEN s.date - {MATCH_DAYS} AND s.date + {MATCH_DAYS}
AND NOT c.is_deleted AND c.transfer_id IS NULL AND c.kind = '{_STANDARD}'
AND c.account_id <> s.account_id AND c.currency = s.currency
"""
_NOT_REJECTED = f"""
NOT EXISTS (
    SELECT 1 FROM ledger_transfersuggestion r
    WHERE r.out_leg_id = CASE WHEN s.amount > 0 THEN s.id ELSE c.id END
      AND r.in_leg_id = CASE WHEN s.amount > 0 THEN c.id ELSE s.id END
      AND r.status = '{TransferSuggestion.Status.REJECTED}'
)
"""
# The seed rows, read once by id (MATERIALIZED: the planner sees how many
# there are from the array, whatever the table's statistics say right after
# an import's COPY), and each seed's same-currency candidates: one join
# against the (user, amount, date) partial index, minus remembered rejections.
_SEED_EDGES = f"""
seed AS MATERIALIZED (
    SELECT s.id, s.account_id, s.amount, s.date, s.currency FROM ledger_transaction s
    WHERE s.id = ANY(%(ids)s::uuid[]) AND s.user_id = %(user)s
      AND NOT s.is_deleted AND s.transfer_id IS NULL AND s.kind = '{_STANDARD}'
),
edge AS MATERIALIZED (
    SELECT s.id AS seed_id, c.id AS other_id, s.amount > 0 AS seed_out, abs(s.date - c.date) AS diff
    FROM seed s JOIN ledger_transaction c ON {_CANDIDATE}
    WHERE {_NOT_REJECTED}
)
"""
_PAIRS = """
SELECT DISTINCT CASE WHEN seed_out THEN seed_id ELSE other_id END AS out_id,
                CASE WHEN seed_out THEN other_id ELSE seed_id END AS in_id, diff
FROM edge
"""
# Same-currency candidates of the seed rows, each pair as (out, in, days apart).
_EDGES_SQL = f"WITH {_SEED_EDGES} {_PAIRS}"

# Every candidate pair of the seeds with whether it is strong: both legs have
# exactly one candidate, counting every candidate a leg has, not only the
# seeds' (an old row with two possible counterparts is ambiguous too). A
# seed's candidates are all in `edge`; the other endpoints' are counted by a
# second join of the same shape. One statement, set-based: (out, in, diff, strong).
_MATCH_SQL = f"""
WITH {_SEED_EDGES},
far AS MATERIALIZED (
    SELECT DISTINCT e.other_id AS id FROM edge e WHERE NOT EXISTS (SELECT 1 FROM seed WHERE seed.id = e.other_id)
),
degree AS (
    SELECT seed_id AS id, count(*) AS n FROM edge GROUP BY seed_id
    UNION ALL
    SELECT s.id, count(*) FROM far JOIN ledger_transaction s ON s.id = far.id
    JOIN ledger_transaction c ON {_CANDIDATE}
    WHERE {_NOT_REJECTED}
    GROUP BY s.id
),
pair AS ({_PAIRS})
SELECT p.out_id, p.in_id, p.diff, d_out.n = 1 AND d_in.n = 1
FROM pair p JOIN degree d_out ON d_out.id = p.out_id JOIN degree d_in ON d_in.id = p.in_id
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
    """{(out, in): days apart} for the seeds' same-currency candidates, rejections left out."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_EDGES_SQL, {"ids": list(ids), "user": user_id})
        return {(out_id, in_id): diff for out_id, in_id, diff in cursor.fetchall()}


def user_currencies(user_id) -> set[str]:
    """The currencies of the user's accounts: a cross-currency pair needs two."""
    return set(Account.objects.filter(user_id=user_id).values_list("currency", flat=True).distinct())


def _fx_edges(*, user_id, ids) -> dict:
    """Cross-currency candidates of the seeds; needs a rate for the seed's date."""
    currencies = user_currencies(user_id)
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
    """Store pairs as open suggestions in one statement (an import may
    suggest thousands); an existing suggestion (or a remembered rejection)
    stays as it is. -> how many were new."""
    if not edges:
        return 0
    now = timezone.now()
    pairs = list(edges.items())
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_transfersuggestion "
            "(id, created_at, updated_at, user_id, out_leg_id, in_leg_id, date_diff, status) "
            "SELECT gen_random_uuid(), %s, %s, %s, p.out_id, p.in_id, p.diff, %s "
            "FROM unnest(%s::uuid[], %s::uuid[], %s::int[]) AS p(out_id, in_id, diff) "
            "ON CONFLICT (out_leg_id, in_leg_id) DO NOTHING",
            [
                now,
                now,
                user_id,
                TransferSuggestion.Status.OPEN,
                [out_id for (out_id, _), _ in pairs],
                [in_id for (_, in_id), _ in pairs],
                [diff for _, diff in pairs],
            ],
        )
        return cursor.rowcount


def transfers_match(*, user, transaction_ids, created_by: str = Transfer.CreatedBy.MATCH) -> MatchOutcome:
    """Match the given new rows against the user's ledger: link the
    unambiguous pairs, suggest the rest. Runs inside the caller's atomic
    block. Set-based whatever the number of rows: one statement finds the
    pairs and which are strong, a few link them and store the suggestions."""
    outcome = MatchOutcome()
    ids = list(transaction_ids)
    if not ids:
        return outcome
    with connection.cursor() as cursor:
        cursor.execute(_MATCH_SQL, {"ids": ids, "user": user.pk})
        rows = cursor.fetchall()
    to_suggest, strong = {}, []
    for out_id, in_id, diff, is_strong in rows:
        if is_strong:
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


def transfers_suggest_fx(*, user, transaction_ids) -> int:
    """The cross-currency suggestions of rows already matched in their own
    currency (books.prematch decides those before an import's rows are
    written). -> how many were new."""
    ids = list(transaction_ids)
    return _suggest(user_id=user.pk, edges=_fx_edges(user_id=user.pk, ids=ids)) if ids else 0


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
    # Plain tuples, not model instances: an import links thousands of pairs.
    legs = {
        row[0]: row
        for row in Transaction.objects.select_for_update(of=("self",))
        .filter(id__in=ids, user=user, is_deleted=False)
        .order_by("id")
        .values_list("id", "account_id", "amount", "currency", "kind", "transfer_id", "category")
    }
    categories, transfers, now = {Category.TRANSFERS}, [], timezone.now()
    for out_id, in_id in pairs:
        out_leg, in_leg = legs.get(out_id), legs.get(in_id)
        if out_leg is None or in_leg is None:
            raise NotFound("Both legs must be two live transactions of yours.")
        (_, out_account, out_amount, out_currency, out_kind, out_transfer, out_category) = out_leg
        (_, in_account, in_amount, in_currency, in_kind, in_transfer, in_category) = in_leg
        if out_transfer or in_transfer or out_kind != _STANDARD or in_kind != _STANDARD:
            raise Conflict(
                "One of these transactions is already a transfer leg or an adjustment.", code="already_linked"
            )
        if out_account == in_account:
            raise DomainError("A transfer moves money between two different accounts.", code="same_account")
        if not (out_amount > 0 > in_amount):
            raise DomainError("out_id must be money out (positive) and in_id money in (negative).", code="direction")
        if out_currency == in_currency and out_amount != -in_amount:
            raise DomainError("In one currency the two legs must have opposite amounts.", code="amount_mismatch")
        categories |= {out_category, in_category}
        transfers.append(
            Transfer(
                user=user,
                out_leg_id=out_id,
                in_leg_id=in_id,
                created_by=created_by,
                out_category=out_category,
                in_category=in_category,
                created_at=now,
                updated_at=now,
            )
        )
    Transfer.objects.bulk_create(transfers)
    legs_of = [leg for t in transfers for leg in (t.out_leg_id, t.in_leg_id)]
    transfer_of = [t.id for t in transfers for _ in (0, 1)]
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE ledger_transaction AS t SET kind = %s, transfer_id = v.transfer_id, category = %s, updated_at = %s "
            "FROM unnest(%s::uuid[], %s::uuid[]) AS v(id, transfer_id) WHERE t.id = v.id",
            [Transaction.Kind.TRANSFER, Category.TRANSFERS, now, legs_of, transfer_of],
        )
        # Open suggestions of the linked legs are settled (rejections stay remembered).
        for column in ("out_leg_id", "in_leg_id"):
            cursor.execute(
                f"DELETE FROM ledger_transfersuggestion WHERE {column} = ANY(%s::uuid[]) AND status = %s",  # noqa: S608
                [ids, TransferSuggestion.Status.OPEN],
            )
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
