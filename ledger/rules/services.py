"""Rule writes: create, edit, delete, and apply to existing transactions;
also the dry runs (test a draft rule on a draft transaction, preview a
rule over the ledger). Every change a rule makes is a TransactionChange
naming the rule."""

import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction as db_transaction
from django.db.models import Max

from config.exceptions import DomainError, NotFound
from ledger.events import announce_transactions_changed
from ledger.models import Account, Rule, Transaction
from ledger.rules import selectors
from ledger.rules.actions import mark_transfer_accounts
from ledger.rules.engine import CompiledRule, Outcome, RuleSet, draft_to_transaction
from ledger.rules.fields import Draft, fact_getters, facts
from ledger.transactions.audit import By
from ledger.transactions.tags import tag_names_by_transaction

APPLY_CHUNK = 1000
EDITABLE = ("name", "enabled", "position", "conditions", "actions", "stop_processing")


def _check_accounts(user, actions) -> None:
    """An account a mark_transfer names must be the user's (else 404, as any other user's id)."""
    wanted = mark_transfer_accounts(actions)
    if wanted and Account.objects.filter(user=user, id__in=wanted).count() != len(wanted):
        raise NotFound("No such account.")


def _compile(rule_id, name, conditions, actions, stop_processing=False) -> CompiledRule:
    return CompiledRule.build(
        rule_id=rule_id, name=name, conditions=conditions, actions=actions, stop_processing=stop_processing
    )


@db_transaction.atomic
def rule_create(*, user, name, conditions, actions, enabled=True, position=None, stop_processing=False) -> Rule:
    """A new rule, validated strictly; without a position it runs last."""
    _compile(None, name, conditions, actions)
    _check_accounts(user, actions)
    if position is None:
        position = (Rule.objects.filter(user=user).aggregate(top=Max("position"))["top"] or 0) + 1
    return Rule.objects.create(
        user=user,
        name=name,
        conditions=conditions,
        actions=actions,
        enabled=enabled,
        position=position,
        stop_processing=stop_processing,
    )


@db_transaction.atomic
def rule_update(*, rule: Rule, **changes) -> Rule:
    for name in EDITABLE:
        if name in changes:
            setattr(rule, name, changes[name])
    _compile(rule.id, rule.name, rule.conditions, rule.actions)
    _check_accounts(rule.user, rule.actions)
    rule.save()
    return rule


def rule_delete(*, rule: Rule) -> None:
    rule.delete()


def rule_compiled(rule: Rule) -> CompiledRule:
    return _compile(rule.id, rule.name, rule.conditions, rule.actions, rule.stop_processing)


def _drafts(transactions) -> list[Draft]:
    ids = [tx.id for tx in transactions]
    tags = tag_names_by_transaction(ids)
    return [Draft.of(tx, tags.get(tx.id, ()), has_split=tx.is_split) for tx in transactions]


def rule_preview(*, compiled: CompiledRule, transactions) -> list[dict]:
    """The change each of these (matching) transactions would get: [{transaction id, changes}]."""
    out = []
    for draft in _drafts(transactions):
        changed = compiled.apply(draft)
        out.append(
            {"transaction_id": draft.id, "changes": [{"field": f, "old": old, "new": new} for f, old, new in changed]}
        )
    return out


def rule_apply(*, user, rule: Rule, filters=None) -> dict:
    """Apply one rule to the user's existing transactions it matches
    (optionally narrowed by the list's filters). Runs in chunks of
    APPLY_CHUNK rows, each its own short transaction with only those rows
    locked, so a million-row run never holds the user's ledger. Idempotent:
    a second run changes nothing. -> {matched, changed}."""
    compiled = rule_compiled(rule)
    ids = list(selectors.rule_matching(user=user, compiled=compiled, filters=filters).values_list("id", flat=True))
    changed = 0
    for start in range(0, len(ids), APPLY_CHUNK):
        changed += _apply_chunk(user=user, compiled=compiled, ids=ids[start : start + APPLY_CHUNK])
    return {"matched": len(ids), "changed": changed}


@db_transaction.atomic
def _apply_chunk(*, user, compiled: CompiledRule, ids) -> int:
    rows = list(
        Transaction.objects.select_for_update(of=("self",))
        .select_related("merchant")
        .filter(user=user, id__in=ids, is_deleted=False)
        .order_by("id")  # a fixed lock order: two applies never deadlock
    )
    ruleset = RuleSet([compiled])
    outcome = Outcome(user, ruleset)
    to_save, categories = [], set()
    for tx, draft in zip(rows, _drafts(rows), strict=True):
        # Re-check under the lock: the row may have changed since it was selected.
        if not compiled.conditions.predicate(facts(draft, ruleset.getters)):
            continue
        before = tx.category
        changes = ruleset.run(draft)
        if not changes:
            continue
        if draft_to_transaction(draft, tx):
            to_save.append(tx)
        categories |= {before, tx.category}
        outcome.add(draft, changes)
    if to_save:
        fields = ["category", "confidence", "merchant_id", "notes", "updated_at"]
        if any(f.name == "kind" for f in Transaction._meta.get_fields()):
            fields.append("kind")
        Transaction.objects.bulk_update(to_save, [f.removesuffix("_id") for f in fields], batch_size=APPLY_CHUNK)
    touched = {c.transaction_id for c in outcome.changes}
    ruleset.hits = type(ruleset.hits)({compiled.id: len(touched)}) if touched else type(ruleset.hits)()
    outcome.write(by=By.RULE)
    touched |= outcome.linked.touched_ids
    categories |= outcome.linked.categories
    if touched:
        announce_transactions_changed(
            user_id=user.pk, action="updated", categories=categories, transaction_ids=list(touched)
        )
    return len(touched)


def _draft_value(data: dict, name, parse, default=None):
    try:
        return parse(data[name]) if name in data else default
    except (TypeError, ValueError, InvalidOperation):
        raise DomainError(f"transaction.{name} is not valid.", code="invalid")


def rule_test(*, user, conditions, actions, transaction: dict) -> dict:
    """Evaluate a draft rule on a draft transaction; nothing is saved."""
    compiled = _compile(None, "test", conditions, actions)
    _check_accounts(user, actions)
    if not isinstance(transaction, dict):
        raise DomainError("transaction is an object.", code="invalid")
    amount = _draft_value(transaction, "amount", Decimal, Decimal("0"))
    if not amount.is_finite():
        raise DomainError("transaction.amount is not valid.", code="invalid")
    draft = Draft(
        merchant_raw=str(transaction.get("merchant_raw", "")),
        merchant_name=str(transaction.get("merchant", "") or ""),
        notes=str(transaction.get("notes", "")),
        amount=amount,
        currency=str(transaction.get("currency", "USD")),
        date=_draft_value(transaction, "date", datetime.date.fromisoformat, datetime.date.today()),
        category=str(transaction.get("category", "Uncategorized")),
        source=str(transaction.get("source", "manual")),
        tags=[str(t) for t in transaction.get("tags", []) or []] if isinstance(transaction.get("tags"), list) else [],
        account_name=str(transaction.get("account", "")),
        account_kind=str(transaction.get("account_kind", "")),
        bank_category=str(transaction.get("bank_category", "")),
        confidence={"method": "user"} if transaction.get("category_set_by_user") else {},
    )
    getters = fact_getters(sorted(compiled.conditions.fields))
    compiled.conditions.prepare([facts(draft, getters)])
    matches = compiled.conditions.predicate(facts(draft, getters))
    changed = compiled.apply(draft) if matches else []
    return {
        "matches": matches,
        "changes": [{"field": f, "old": old, "new": new} for f, old, new in changed],
    }
