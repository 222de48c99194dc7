"""Transfer matching for rows about to be written (an import's commit).

matching.transfers_match links rows already in the ledger: both legs are
rewritten (kind, transfer, category), which for an import of thousands of
rows is a second write of every matched new row and all its indexes. Here
the pairs are decided before the rows exist, from the rows' (key, amount,
date), so a matched new row is written once, already a transfer leg, and
only its counterpart (an older row in another account) is updated.

The rule is matching's, to the row: a candidate is a live, standard,
unlinked row of the user in another account with the opposite amount in the
account's currency, at most MATCH_DAYS away, never rejected. A pair links
only when each leg has exactly one candidate, counting every candidate of the
older row: those in the ledger and those among all the rows still to be
written (one statement, over every pending row at once, so batches decide
exactly as one call would). The plan is kept in a temporary table of the
session (memory flat in the file), read a batch at a time; each batch locks
its counterparts and re-checks them (another request may have linked or
edited one since the plan), and a row whose counterpart moved is written
unlinked and left to matching after the commit.
"""

import re
import uuid

from django.db import connection
from django.utils import timezone

from config.sql import with_planner_settings
from ledger.books.matching import MATCH_DAYS, _suggest
from ledger.models import Transaction, TransferSuggestion
from merchants.categories import Category

_STANDARD = Transaction.Kind.STANDARD
PLAN_TABLE = "tally_transfer_plan"
# For the plan's statement only: hash or merge joins, index scans (see _PLAN_SQL).
PLAN_SETTINGS = {"enable_nestloop": "off", "enable_seqscan": "off"}

# seed: the pending rows (key, amount, date), all in %(account)s. cand: the
# user's rows that can be a counterpart (live, standard, unlinked, in the
# account's currency) dated within twice MATCH_DAYS of the seeds' span, read
# once. edge: each seed's candidates, with how many candidates the seed has
# and how many pending rows are candidates of the older row (both windows
# over the edges). rival: the older rows of the edges that could be strong
# which have a candidate in the ledger too (not a rejected pair). A pair is
# strong when both counts are 1 and the older row has no rival.
#
# Set-based and run without nested loops (PLAN_SETTINGS), whatever the
# statistics say: every join is on the amount, so it is a hash (or merge)
# join, linear in the seeds and the user's rows of the span, and the user's
# rows are read through an index led by the user. Left to the statistics,
# with them collected before a bulk load (autovacuum off) or the preview's
# rows just copied, the planner thought both sides one row and scanned the
# user's rows again for every seed in a nested loop: a 20k-row commit ran
# for minutes (52 ms once analysed).
_PLAN_SQL = f"""
INSERT INTO pg_temp.{PLAN_TABLE} (key, other_id, other_amount, seed_out, diff, strong)
WITH seed (key, amount, date) AS MATERIALIZED ({{seeds}}),
cand AS MATERIALIZED (
    SELECT c.id, c.amount, c.date, c.account_id FROM ledger_transaction c
    WHERE c.user_id = %(user)s AND NOT c.is_deleted AND c.transfer_id IS NULL AND c.kind = '{_STANDARD}'
      AND c.currency = %(currency)s
      AND c.date BETWEEN (SELECT min(date) FROM seed) - {2 * MATCH_DAYS}
                     AND (SELECT max(date) FROM seed) + {2 * MATCH_DAYS}
),
edge AS MATERIALIZED (
    SELECT s.key, c.id AS other_id, c.amount AS other_amount, c.date AS other_date, c.account_id AS other_account,
           s.amount > 0 AS seed_out, abs(s.date - c.date) AS diff,
           count(*) OVER (PARTITION BY s.key) AS seed_n, count(*) OVER (PARTITION BY c.id) AS pending_n
    FROM seed s JOIN cand c ON c.amount = -s.amount
     AND c.date BETWEEN s.date - {MATCH_DAYS} AND s.date + {MATCH_DAYS} AND c.account_id <> %(account)s
),
rival AS MATERIALIZED (
    SELECT DISTINCT e.other_id
    FROM edge e JOIN cand c ON c.amount = -e.other_amount
     AND c.date BETWEEN e.other_date - {MATCH_DAYS} AND e.other_date + {MATCH_DAYS} AND c.account_id <> e.other_account
    WHERE e.seed_n = 1 AND e.pending_n = 1 AND NOT EXISTS (
        SELECT 1 FROM ledger_transfersuggestion r
        WHERE r.user_id = %(user)s AND r.status = '{TransferSuggestion.Status.REJECTED}'
          AND r.out_leg_id = CASE WHEN e.other_amount > 0 THEN e.other_id ELSE c.id END
          AND r.in_leg_id = CASE WHEN e.other_amount > 0 THEN c.id ELSE e.other_id END
    )
)
SELECT e.key, e.other_id, e.other_amount, e.seed_out, e.diff, e.seed_n = 1 AND e.pending_n = 1 AND v.other_id IS NULL
FROM edge e LEFT JOIN rival v ON v.other_id = e.other_id
"""


def _positional(sql: str, named: dict) -> tuple[str, list]:
    """%(name)s -> %s with the values in order (the seeds' own %s come first)."""
    params: list = []

    def take(match):
        params.append(named[match.group(1)])
        return "%s"

    return re.sub(r"%\((\w+)\)s", take, sql), params


class TransferPlan:
    """The pairs decided for an import's pending rows, by row key."""

    def __init__(self, *, user, account):
        self.user, self.account = user, account

    def build(self, seeds) -> "TransferPlan":
        """seeds: a values_list queryset of (key, amount, date) of the rows to be written."""
        seed_sql, seed_params = seeds.query.sql_with_params()
        sql, named = _positional(
            _PLAN_SQL.replace("{seeds}", seed_sql),
            {"user": self.user.pk, "account": self.account.pk, "currency": self.account.currency},
        )
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{PLAN_TABLE}")
            cursor.execute(
                f"CREATE TEMP TABLE {PLAN_TABLE} (key bigint NOT NULL, other_id uuid NOT NULL, "
                "other_amount numeric NOT NULL, seed_out boolean NOT NULL, diff int NOT NULL, strong boolean NOT NULL)"
            )
            cursor.execute(with_planner_settings(sql, PLAN_SETTINGS), [*seed_params, *named])
            cursor.execute(f"CREATE INDEX ON pg_temp.{PLAN_TABLE} (key)")
        return self

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{PLAN_TABLE}")

    def batch(self, keys: list) -> list[tuple]:
        """The plan's pairs for these keys: (key, other_id, other_amount, seed_out, diff, strong)."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT key, other_id, other_amount, seed_out, diff, strong FROM pg_temp.{PLAN_TABLE} "  # noqa: S608
                "WHERE key = ANY(%s::bigint[])",
                [keys],
            )
            return cursor.fetchall()

    def link(self, rows: list[tuple], *, created_by: str) -> dict:
        """Link new rows, not written yet, to their planned counterparts:
        rows are (new id, new amount, the new row's category, other id,
        other amount). The counterparts are locked in id order and
        re-checked; the Transfer rows are inserted and the counterparts
        become legs (the new rows' foreign keys are checked at commit, once
        the caller has written them, already linked). -> {new id: (transfer
        id, the counterpart's earlier category)} for the pairs linked."""
        if not rows:
            return {}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, amount, category FROM ledger_transaction WHERE id = ANY(%s::uuid[]) AND user_id = %s "
                f"AND NOT is_deleted AND transfer_id IS NULL AND kind = '{_STANDARD}' ORDER BY id FOR UPDATE",
                [[row[3] for row in rows], self.user.pk],
            )
            free = {other_id: (amount, category) for other_id, amount, category in cursor.fetchall()}
            now, linked = timezone.now(), {}
            transfers: tuple[list, ...] = ([], [], [], [], [])
            for new_id, new_amount, new_category, other_id, other_amount in rows:
                found = free.pop(other_id, None)
                if found is None or found[0] != other_amount:
                    continue
                transfer_id, other_category = uuid.uuid4(), found[1]
                linked[new_id] = (transfer_id, other_category)
                out_pair = (new_id, new_category) if new_amount > 0 else (other_id, other_category)
                in_pair = (other_id, other_category) if new_amount > 0 else (new_id, new_category)
                for column, value in zip(
                    transfers, (transfer_id, out_pair[0], in_pair[0], out_pair[1], in_pair[1]), strict=True
                ):
                    column.append(value)
            if not linked:
                return {}
            cursor.execute(
                "INSERT INTO ledger_transfer "
                "(id, created_at, updated_at, user_id, out_leg_id, in_leg_id, created_by, out_category, in_category) "
                "SELECT v.id, %s, %s, %s, v.out_leg, v.in_leg, %s, v.out_category, v.in_category "
                "FROM unnest(%s::uuid[], %s::uuid[], %s::uuid[], %s::text[], %s::text[]) "
                "AS v(id, out_leg, in_leg, out_category, in_category)",
                [now, now, self.user.pk, created_by, *transfers],
            )
            others = [row[3] for row in rows if row[0] in linked]
            cursor.execute(
                "UPDATE ledger_transaction AS t SET kind = %s, transfer_id = v.transfer_id, category = %s, "
                "updated_at = %s FROM unnest(%s::uuid[], %s::uuid[]) AS v(id, transfer_id) WHERE t.id = v.id",
                [Transaction.Kind.TRANSFER, Category.TRANSFERS, now, others,
                 [linked[row[0]][0] for row in rows if row[0] in linked]],
            )  # fmt: skip
            # The counterparts' open suggestions are settled (rejections stay remembered).
            for column in ("out_leg_id", "in_leg_id"):
                cursor.execute(
                    f"DELETE FROM ledger_transfersuggestion WHERE {column} = ANY(%s::uuid[]) AND status = %s",  # noqa: S608
                    [others, TransferSuggestion.Status.OPEN],
                )
        return linked

    def suggest(self, pairs: list[tuple]) -> int:
        """The plan's ambiguous pairs of rows just written, as suggestions:
        (new id, other id, new row is money out, days apart)."""
        edges = {((new, other) if out else (other, new)): diff for new, other, out, diff in pairs}
        return _suggest(user_id=self.user.pk, edges=edges)
