"""Running rules. A user's enabled rules are compiled once per request or
import (`RuleSet.for_user`) into one scanner function (all the rules'
conditions as flat Python expressions, answering which rules match a row in
one call), then applied per transaction in `position` order until one says
stop_processing. The outcome's writes
(tags, split lines, audit rows, rule counters) are batched: a constant
number of statements per import, not per row."""

import logging
import re
from collections import Counter, defaultdict

from django.db import connection
from django.utils import timezone

from ledger.books.matching import MatchOutcome, transfers_mark
from ledger.models import Rule, SplitLine, Tag, Transaction
from ledger.rules.actions import actions_compile
from ledger.rules.conditions import conditions_compile
from ledger.rules.errors import Problems
from ledger.rules.fields import CHANGE_FACTS, FACT_SOURCES, Draft, fact_getters, facts
from ledger.transactions.audit import By, Change, changes_record
from ledger.transactions.tags import TransactionTag, tags_resolve
from merchants.categories import Category

logger = logging.getLogger(__name__)


class CompiledRule:
    __slots__ = ("id", "name", "conditions", "actions", "stop")

    def __init__(self, rule_id, name, conditions, actions, stop):
        self.id, self.name, self.conditions, self.actions, self.stop = rule_id, name, conditions, actions, stop

    @classmethod
    def build(cls, *, rule_id, name, conditions, actions, stop_processing=False, raise_errors=True):
        problems = Problems()
        compiled_conditions = conditions_compile(conditions, problems=problems)
        compiled_actions = actions_compile(actions, problems=problems)
        if problems.items:
            if raise_errors:
                problems.raise_if_any()
            return None
        return cls(rule_id, name, compiled_conditions, compiled_actions, stop_processing)

    def apply(self, draft) -> list[tuple]:
        changed = []
        for action in self.actions:
            changed.extend(action.apply(draft, rule_id=self.id))
        return changed


# Actions that decide whether a row is a transfer candidate (kind adjustment, a mark).
_TRANSFER_SHAPING = frozenset({"exclude", "mark_transfer"})


class RuleSet:
    def __init__(self, rules: list[CompiledRule], *, shapes_transfers: bool = False):
        self.rules = rules
        # True when a rule may exclude a row or mark it a transfer: matching must then see the rules' outcome.
        self.shapes_transfers = shapes_transfers
        fields = set()
        for rule in rules:
            fields |= rule.conditions.fields
        self.reads = frozenset(fields)
        self.regex_fields = frozenset(leaf.field for rule in rules for leaf in rule.conditions.regexes)
        self.getters = fact_getters(sorted(fields))
        self.scan, self.scan_draft = _scanner(rules, fields)
        self.hits: Counter = Counter()

    @classmethod
    def for_user(cls, user) -> "RuleSet":
        compiled, shaping = [], set()
        for rule in Rule.objects.filter(user=user, enabled=True).order_by("position", "created_at", "id"):
            built = CompiledRule.build(
                rule_id=rule.id,
                name=rule.name,
                conditions=rule.conditions,
                actions=rule.actions,
                stop_processing=rule.stop_processing,
                raise_errors=False,
            )
            if built is None:  # saved before a field or action went away: skipped, never a failed import
                logger.warning("rule no longer compiles", extra={"rule_id": str(rule.id)})
                continue
            compiled.append(built)
            shaping |= {action.get("type") for action in rule.actions if isinstance(action, dict)} & _TRANSFER_SHAPING
        return cls(compiled, shapes_transfers=bool(shaping))

    def __bool__(self):
        return bool(self.rules)

    def prepare(self, drafts):
        """Answer the regex leaves for these drafts in one query per pattern."""
        if not self.regex_fields:
            return
        values = {name: {get(d) for d in drafts} for name, get in fact_getters(sorted(self.regex_fields))}
        for rule in self.rules:
            if rule.conditions.regexes:
                rule.conditions.prepare_values(values)

    def run(self, draft) -> list[Change]:
        """Apply the matching rules to one draft, in order; -> its changes,
        one per field: from the value before the pass to the value the pass
        left, by the last rule that set it. A value a later rule replaced in
        the same pass was never the transaction's (nothing stored it), so it
        is not a change to record; the earlier rule still counts a hit."""
        pending = self.scan_draft(draft)
        if not pending:
            return []
        net: dict = {}  # field -> [old, new, rule id]
        at = 0
        while at < len(pending):
            index = pending[at]
            at += 1
            rule = self.rules[index]
            changed = rule.apply(draft)
            self.hits[rule.id] += 1
            if changed:
                for name, old, new in changed:
                    seen = net.get(name)
                    if seen is None:
                        net[name] = [old, new, rule.id]
                    else:
                        seen[1], seen[2] = new, rule.id
                # Later rules see what earlier ones did (a category set here can be matched there):
                # when the change moved a fact some condition reads, the rules after this one are asked again.
                if any(self.reads & CHANGE_FACTS.get(name, _NONE) for name, _old, _new in changed):
                    current = facts(draft, self.getters)
                    for other in self.rules:
                        if other.conditions.regexes:
                            other.conditions.prepare([current])
                    pending, at = [i for i in self.scan(current) if i > index], 0
            if rule.stop:
                break
        return [Change(draft.id, name, old, new, rule_id) for name, (old, new, rule_id) in net.items() if old != new]


_NONE = frozenset()
_CONSTANT = re.compile(r"_c(\d+)_")


def _scanner(rules: list[CompiledRule], fields):
    """Two functions -> indexes of the rules whose conditions hold, in order:
    `scan(facts)` over a facts dict, and `scan_draft(draft)`, which works the
    facts out of the draft inline (no dict, no getter calls: an import asks
    this once per row). Each fact is read once, each condition is one inline
    expression, the constants are the functions' defaults (local reads)."""
    body, constants = [], {}
    for index, rule in enumerate(rules):
        # Each rule's constants are renamed apart (_c0_ -> _r3c0_) to share one namespace.
        source = _CONSTANT.sub(lambda m, i=index: f"_r{i}c{m.group(1)}_", rule.conditions.source)
        for name, value in rule.conditions.constants.items():
            constants[_CONSTANT.sub(lambda m, i=index: f"_r{i}c{m.group(1)}_", name)] = value
        body.append(f"    if {source}:")
        body.append(f"        hits.append({index})")
    body.append("    return hits")
    defaults = "".join(f", {name}={name}" for name in constants)
    lines = [f"def scan(f{defaults}):"]
    lines += [f"    x_{name} = f[{name!r}]" for name in sorted(fields)]
    lines += ["    hits = []", *body]
    lines.append(f"def scan_draft(d{defaults}):")
    lines += [f"    x_{name} = {FACT_SOURCES[name]}" for name in sorted(fields)]
    lines += ["    hits = []", *body]
    namespace = dict(constants)
    exec("\n".join(lines), namespace)  # noqa: S102 (source built from validated trees, values are constants)
    return namespace["scan"], namespace["scan_draft"]


class Outcome:
    """What a rules pass did to a batch of new (or existing) transactions,
    written by `write()` once the transaction rows exist."""

    def __init__(self, user, ruleset: RuleSet, *, new_rows: bool = False):
        self.user = user
        self.ruleset = ruleset
        # Rows written in this transaction just now (an import's batch): they have no tags to read first.
        self.new_rows = new_rows
        self.changes: list[Change] = []
        self.tags: dict = {}  # transaction id -> final tag names, when rules changed them
        self.splits: dict = {}  # transaction id -> lines
        self.transfers: dict = {}  # transaction id -> (counterpart's account id or None, rule id)
        self.linked = MatchOutcome()  # what mark_transfer linked, for the caller's event

    def add(self, draft, changes):
        if not changes:
            return
        self.changes.extend(changes)
        fields = {c.field for c in changes}
        if "tags" in fields:
            self.tags[draft.id] = list(draft.tags)
        if "splits" in fields:
            self.splits[draft.id] = draft.split
        if "transfer" in fields:
            self.transfers[draft.id] = draft.transfer

    def write(self, *, by: str = By.RULE, import_ref=None):
        if self.tags:
            self._write_tags()
        if self.splits:
            SplitLine.objects.bulk_create(
                [
                    SplitLine(transaction_id=tx_id, position=i, **line)
                    for tx_id, lines in self.splits.items()
                    for i, line in enumerate(lines)
                ],
                batch_size=5000,
            )
            Transaction.objects.filter(id__in=list(self.splits)).update(is_split=True)
        if self.transfers:
            self._write_transfers()
        changes_record(self.changes, by=by, import_ref=import_ref)
        if self.ruleset.hits:
            # Every rule's counter in one statement, not one per rule.
            hits = list(self.ruleset.hits.items())
            with connection.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Rule._meta.db_table} r SET applied_count = r.applied_count + v.n, last_applied_at = %s "
                    "FROM unnest(%s::uuid[], %s::int[]) AS v(id, n) WHERE r.id = v.id",
                    [timezone.now(), [rule_id for rule_id, _ in hits], [n for _, n in hits]],
                )
        self.ruleset.hits.clear()

    def _write_transfers(self):
        """Link each marked row to its counterpart or suggest its candidates;
        the audit gets the kind and category each linked leg changed to."""
        self.changes = [c for c in self.changes if c.field != "transfer"]  # a mark, not a stored field
        marks = {tx_id: target for tx_id, (target, _rule) in self.transfers.items()}
        self.linked = transfers_mark(user=self.user, marks=marks)
        for transfer in self.linked.transfers:
            rule_id = (self.transfers.get(transfer.out_leg_id) or self.transfers[transfer.in_leg_id])[1]
            legs = ((transfer.out_leg_id, transfer.out_category), (transfer.in_leg_id, transfer.in_category))
            for leg, category in legs:
                self.changes.append(Change(leg, "kind", Transaction.Kind.STANDARD, Transaction.Kind.TRANSFER, rule_id))
                self.changes.append(Change(leg, "category", category, Category.TRANSFERS, rule_id))

    def _write_tags(self):
        """Set each transaction's tags to the names the rules left: one read,
        one delete and one insert for the whole batch (the audit rows are in
        self.changes already)."""
        names = {name for values in self.tags.values() for name in values}
        by_name = {tag.name.lower(): tag.id for tag in tags_resolve_many(self.user, names)}
        wanted = {tx_id: {by_name[n.lower()] for n in values} for tx_id, values in self.tags.items()}
        current = defaultdict(set)
        if not self.new_rows:
            for tx_id, tag_id in TransactionTag.objects.filter(transaction_id__in=list(wanted)).values_list(
                "transaction_id", "tag_id"
            ):
                current[tx_id].add(tag_id)
        drop = [(tx_id, tag_id) for tx_id, tags in current.items() for tag_id in tags - wanted[tx_id]]
        add = [(tx_id, tag_id) for tx_id, tags in wanted.items() for tag_id in tags - current[tx_id]]
        table = TransactionTag._meta.db_table
        with connection.cursor() as cursor:
            if drop:
                cursor.execute(
                    f"DELETE FROM {table} t USING unnest(%s::uuid[], %s::uuid[]) AS v(tx, tag) "
                    "WHERE t.transaction_id = v.tx AND t.tag_id = v.tag",
                    [[tx for tx, _ in drop], [tag for _, tag in drop]],
                )
            if add:
                # Arrays, not model instances: an import adds thousands of these.
                cursor.execute(
                    f"INSERT INTO {table} (transaction_id, tag_id) SELECT * FROM unnest(%s::uuid[], %s::uuid[]) "
                    "ON CONFLICT DO NOTHING",
                    [[tx for tx, _ in add], [tag for _, tag in add]],
                )


def tags_resolve_many(user, names) -> list[Tag]:
    names = sorted(set(names), key=str.lower)
    found = []
    for start in range(0, len(names), 50):
        found.extend(tags_resolve(user=user, names=names[start : start + 50]))
    return found


def rules_run_on_new(*, user, transactions, tags=None, ruleset: RuleSet | None = None) -> Outcome:
    """Run the user's rules on unsaved Transaction instances (after merchant
    matching, before they are saved); the instances get the changes and the
    returned Outcome writes the rest after the rows are saved."""
    ruleset = ruleset if ruleset is not None else RuleSet.for_user(user)
    outcome = Outcome(user, ruleset)
    if not ruleset:
        return outcome
    tags = tags or {}
    drafts = [Draft.of(tx, tags.get(tx.id, ())) for tx in transactions]
    ruleset.prepare(drafts)
    for tx, draft in zip(transactions, drafts, strict=True):
        changes = ruleset.run(draft)
        if changes:
            draft_to_transaction(draft, tx)
        outcome.add(draft, changes)
    return outcome


def draft_to_transaction(draft, tx) -> list[str]:
    """Copy a draft's changeable parts onto the model instance; -> changed columns."""
    changed = []
    for name in ("category", "confidence", "merchant_id", "notes"):
        if getattr(tx, name) != getattr(draft, name):
            setattr(tx, name, getattr(draft, name))
            changed.append(name)
    if draft.kind is not None and getattr(tx, "kind", None) != draft.kind:
        tx.kind = draft.kind
        changed.append("kind")
    return changed
