"""Rule reads: the user's rules, which existing transactions a rule
matches (pushed into SQL as one WHERE), and suggestions learned from the
user's category corrections."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Max
from rest_framework.exceptions import NotFound

from ledger.models import CategoryCorrection, Rule
from ledger.rules.fields import annotate_for_rules
from ledger.transactions.selectors import transaction_list

SUGGESTION_MIN_CORRECTIONS = 3


def rule_list(*, user):
    return Rule.objects.filter(user=user).order_by("position", "created_at", "id")


def rule_get(*, user, rule_id) -> Rule:
    try:
        return Rule.objects.get(user=user, id=rule_id)
    except (Rule.DoesNotExist, ValueError, DjangoValidationError):
        raise NotFound("Rule not found.")


def rule_matching(*, user, compiled, filters=None):
    """The user's live transactions (narrowed by the list's filters) that
    the compiled conditions match, newest first, as one SQL query."""
    queryset = annotate_for_rules(transaction_list(user=user, filters=filters), compiled.conditions.fields)
    return queryset.filter(compiled.conditions.q).order_by("-date", "-id")


def rule_suggestions(*, user, minimum: int = SUGGESTION_MIN_CORRECTIONS) -> list[dict]:
    """Merchants the user moved to the same category at least `minimum`
    times and no rule of theirs sets yet: each a ready-to-post rule."""
    rows = (
        CategoryCorrection.objects.filter(user=user, transaction__is_deleted=False)
        .values("transaction__merchant_id", "transaction__merchant__canonical_name", "new_category")
        .annotate(count=Count("id"), last=Max("created_at"), sample=Max("transaction__merchant_raw"))
        .filter(count__gte=minimum)
        .order_by("-count", "-last")
    )
    covered = set()  # (field, lowered value, category) a rule of the user already handles
    for rule in Rule.objects.filter(user=user).only("conditions", "actions"):
        actions = [a for a in rule.actions or [] if isinstance(a, dict)]
        categories = {a.get("value") for a in actions if a.get("type") == "set_category"}
        for leaf in _leaves(rule.conditions):
            if isinstance(leaf.get("value"), str):
                covered |= {(leaf.get("field"), leaf["value"].lower(), c) for c in categories}
    suggestions = []
    for row in rows[:50]:
        name = row["transaction__merchant__canonical_name"]
        if name:
            leaf = {"field": "merchant", "op": "eq", "value": name}
        else:
            name = row["sample"]
            leaf = {"field": "merchant_raw", "op": "contains", "value": name[:255]}
        conditions = {"all": [leaf]}
        if (leaf["field"], leaf["value"].lower(), row["new_category"]) in covered:
            continue
        suggestions.append(
            {
                "name": f"{name} -> {row['new_category']}"[:120],
                "conditions": conditions,
                "actions": [{"type": "set_category", "value": row["new_category"]}],
                "corrections": row["count"],
                "last_corrected_at": row["last"],
            }
        )
    return suggestions


def _leaves(node, depth=0):
    if depth > 12 or not isinstance(node, dict):
        return
    if "field" in node:
        yield node
    for key in ("all", "any"):
        for child in node.get(key) or [] if isinstance(node.get(key), list) else []:
            yield from _leaves(child, depth + 1)
