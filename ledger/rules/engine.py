"""Running rules. A user's enabled rules are compiled once per request or
import (`RuleSet.for_user`), then evaluated in Python per transaction in
`position` order until one says stop_processing. The outcome's writes
(tags, split lines, audit rows, rule counters) are batched: a constant
number of statements per import, not per row."""

import logging
from collections import Counter, defaultdict

from django.db.models import F
from django.utils import timezone

from ledger.models import Rule, SplitLine, Tag, Transaction
from ledger.rules.actions import actions_compile
from ledger.rules.conditions import conditions_compile
from ledger.rules.errors import Problems
from ledger.rules.fields import Draft, fact_getters, facts
from ledger.transactions.audit import By, Change, changes_record
from ledger.transactions.tags import tags_resolve, transaction_tags_change

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


class RuleSet:
    def __init__(self, rules: list[CompiledRule]):
        self.rules = rules
        fields = set()
        for rule in rules:
            fields |= rule.conditions.fields
        self.getters = fact_getters(sorted(fields))
        self.hits: Counter = Counter()

    @classmethod
    def for_user(cls, user) -> "RuleSet":
        compiled = []
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
        return cls(compiled)

    def __bool__(self):
        return bool(self.rules)

    def prepare(self, drafts):
        """Answer the regex leaves for these drafts in one query per pattern."""
        if not any(rule.conditions.regexes for rule in self.rules):
            return
        rows = [facts(d, self.getters) for d in drafts]
        for rule in self.rules:
            if rule.conditions.regexes:
                rule.conditions.prepare(rows)

    def run(self, draft) -> list[Change]:
        """Apply the matching rules to one draft, in order; -> its changes."""
        changes = []
        current = facts(draft, self.getters)
        for rule in self.rules:
            if not rule.conditions.predicate(current):
                continue
            changed = rule.apply(draft)
            self.hits[rule.id] += 1
            if changed:
                changes.extend(Change(draft.id, name, old, new, rule.id) for name, old, new in changed)
                # Later rules see what earlier ones did (a category set here can be matched there).
                current = facts(draft, self.getters)
                for other in self.rules:
                    if other.conditions.regexes:
                        other.conditions.prepare([current])
            if rule.stop:
                break
        return changes


class Outcome:
    """What a rules pass did to a batch of new (or existing) transactions,
    written by `write()` once the transaction rows exist."""

    def __init__(self, user, ruleset: RuleSet):
        self.user = user
        self.ruleset = ruleset
        self.changes: list[Change] = []
        self.tags: dict = {}  # transaction id -> final tag names, when rules changed them
        self.splits: dict = {}  # transaction id -> lines

    def add(self, draft, changes):
        if not changes:
            return
        self.changes.extend(changes)
        fields = {c.field for c in changes}
        if "tags" in fields:
            self.tags[draft.id] = list(draft.tags)
        if "splits" in fields:
            self.splits[draft.id] = draft.split

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
        changes_record(self.changes, by=by, import_ref=import_ref)
        now = timezone.now()
        for rule_id, count in self.ruleset.hits.items():
            Rule.objects.filter(id=rule_id).update(applied_count=F("applied_count") + count, last_applied_at=now)
        self.ruleset.hits.clear()

    def _write_tags(self):
        names = {name for values in self.tags.values() for name in values}
        by_name = {tag.name.lower(): tag for tag in tags_resolve_many(self.user, names)}
        groups = defaultdict(list)
        for tx_id, values in self.tags.items():
            groups[frozenset(n.lower() for n in values)].append(tx_id)
        for key, tx_ids in groups.items():
            transaction_tags_change(transaction_ids=tx_ids, replace=[by_name[n] for n in key], audit=False)


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
