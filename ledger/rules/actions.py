"""Rule actions: [{"type": ..., "value": ...}]. `actions_compile` validates
them strictly (400s naming `actions[i].value`); `CompiledAction.apply`
changes a `Draft` and answers the (field, old, new) it changed, so the
same code previews, tests, runs on new rows and applies to old ones.
mark_transfer only marks the draft ("transfer" in its changes); the link is
made once the rows exist (engine.Outcome.write, ledger.books.matching).

A category the user set by hand (confidence method "user") is never
overwritten. A split already on the transaction is kept. Applying a rule
twice changes nothing the second time (append_notes does not append what
the notes already end with)."""

import uuid
from decimal import ROUND_HALF_EVEN, Decimal

from ledger.models import Transaction
from ledger.rules.errors import Problems
from merchants.categories import Category

MAX_ACTIONS = 20
MAX_NOTES = 1000
MAX_SPLIT_LINES = 20
CENT = Decimal("0.01")
TYPES = (
    "set_category",
    "set_merchant",
    "add_tags",
    "remove_tags",
    "set_notes",
    "append_notes",
    "split",
    "mark_transfer",
    "exclude",
)


def _category(value):
    if isinstance(value, str):
        if value in Category.values:
            return value
        if value in Category.names:
            return Category[value].value
    raise ValueError(f"Unknown category; use one of {', '.join(Category.values)}.")


def _tag_names(value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or len(value) > 20:
        raise ValueError("A tag name or a list of 1 to 20 tag names.")
    names = []
    for name in value:
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 64:
            raise ValueError("Tag names are non-empty strings of at most 64 characters.")
        names.append(" ".join(name.split()))
    return names


def _notes(value):
    if not isinstance(value, str) or len(value) > MAX_NOTES:
        raise ValueError(f"A string of at most {MAX_NOTES} characters.")
    return value


def _transfer_target(value):
    """mark_transfer takes no value (the counterpart may be in any other
    account), or the id of the account the counterpart is in (as itself or
    {"account": id})."""
    if value is None:
        return None
    if isinstance(value, str):
        value = {"account": value}
    account = value.get("account") if isinstance(value, dict) and set(value) <= {"account"} else ""
    if account is None:
        return None
    try:
        return uuid.UUID(str(account))
    except ValueError:
        raise ValueError('mark_transfer takes no value or {"account": the id of the counterpart\'s account}.')


def mark_transfer_accounts(actions) -> set:
    """The account ids mark_transfer actions name (the caller checks they are the user's)."""
    found = set()
    for action in actions if isinstance(actions, list) else ():
        if isinstance(action, dict) and action.get("type") == "mark_transfer":
            target = _transfer_target(action.get("value"))
            if target is not None:
                found.add(target)
    return found


def _merchant(value):
    from merchants.models import Merchant

    try:
        merchant = Merchant.objects.filter(id=uuid.UUID(str(value))).values_list("id", "canonical_name").first()
    except ValueError:
        merchant = None
    if merchant is None:
        raise ValueError("Not a known merchant id.")
    return merchant


def _split(value, problems: Problems, path: str):
    """{"lines": [{"category", "percent" | "amount", "notes"?}, ...]}: fixed
    amounts (shares of the absolute amount) and percentages, and at most one
    line with neither, last, that takes the remainder."""
    lines = value.get("lines") if isinstance(value, dict) and set(value) == {"lines"} else None
    if not isinstance(lines, list) or not 2 <= len(lines) <= MAX_SPLIT_LINES:
        problems.add(path, "invalid_split", f'split takes {{"lines": [...]}} with 2 to {MAX_SPLIT_LINES} lines.')
        return None
    parsed, percent_total = [], Decimal(0)
    for i, line in enumerate(lines):
        where = f"{path}.lines[{i}]"
        if not isinstance(line, dict) or set(line) - {"category", "percent", "amount", "notes"}:
            problems.add(where, "invalid_split", "A line has category, percent or amount, and notes.")
            return None
        try:
            category = _category(line.get("category"))
        except ValueError as exc:
            problems.add(f"{where}.category", "invalid_value", str(exc))
            return None
        if "percent" in line and "amount" in line:
            problems.add(where, "invalid_split", "A line has a percent or an amount, not both.")
            return None
        share = line.get("percent", line.get("amount"))
        kind = "percent" if "percent" in line else "amount" if "amount" in line else "remainder"
        if kind != "remainder":
            try:
                if isinstance(share, bool):
                    raise ValueError
                share = Decimal(str(share))
                if not share.is_finite() or share <= 0 or (kind == "percent" and share > 100):
                    raise ValueError
                if kind == "amount" and share != share.quantize(CENT):
                    raise ValueError
            except (ValueError, ArithmeticError):
                problems.add(
                    f"{where}.{kind}",
                    "invalid_value",
                    "A percent is above 0 and at most 100; an amount is positive with at most 2 decimals.",
                )
                return None
            if kind == "percent":
                percent_total += share
        elif i != len(lines) - 1:
            problems.add(where, "invalid_split", "Only the last line may take the remainder.")
            return None
        notes = line.get("notes", "")
        if not isinstance(notes, str) or len(notes) > 500:
            problems.add(f"{where}.notes", "invalid_value", "Notes are a string of at most 500 characters.")
            return None
        parsed.append((kind, share, category, notes))
    has_remainder = parsed[-1][0] == "remainder"
    has_amounts = any(kind == "amount" for kind, *_ in parsed)
    if percent_total > 100 or (not has_remainder and not has_amounts and percent_total != 100):
        problems.add(
            path,
            "split_does_not_add_up",
            f"Percentages add up to {percent_total}: they must make 100, or leave a last line for the remainder.",
        )
        return None
    if not has_remainder and has_amounts:
        problems.add(
            path,
            "split_does_not_add_up",
            "With fixed amounts the lines cannot add up to every amount: end with a line for the remainder.",
        )
        return None
    return parsed


def split_lines_for(parsed, amount: Decimal):
    """The lines a split action gives a transaction of `amount`, or None
    when they cannot add up for it (fixed shares above the amount)."""
    sign = 1 if amount > 0 else -1
    whole = abs(amount)
    lines, used = [], Decimal(0)
    for index, (kind, share, category, notes) in enumerate(parsed):
        if kind == "remainder" or (index == len(parsed) - 1 and kind == "percent"):
            part = whole - used  # the last line absorbs rounding
        elif kind == "percent":
            part = (whole * share / 100).quantize(CENT, rounding=ROUND_HALF_EVEN)
        else:
            part = share
        used += part
        if part < 0 or used > whole:
            return None
        if part:
            lines.append({"amount": part * sign, "category": category, "notes": notes})
    return lines if len(lines) >= 2 and sum(line["amount"] for line in lines) == amount else None


def _has_kind():
    return any(f.name == "kind" for f in Transaction._meta.get_fields())


class CompiledAction:
    __slots__ = ("type", "value")

    def __init__(self, type_, value):
        self.type, self.value = type_, value

    def apply(self, draft, *, rule_id) -> list[tuple[str, object, object]]:
        t, v = self.type, self.value
        if t == "set_category":
            if draft.confidence.get("method") == "user" or draft.category == v:
                return []
            old, draft.category = draft.category, v
            draft.confidence = {"category": 1.0, "method": "rule", "rule": str(rule_id)}
            return [("category", old, v)]
        if t == "set_merchant":
            merchant_id, name = v
            if draft.merchant_id == merchant_id:
                return []
            old, draft.merchant_id, draft.merchant_name = draft.merchant_id, merchant_id, name
            return [("merchant", old, merchant_id)]
        if t in ("add_tags", "remove_tags"):
            have = {name.lower(): name for name in draft.tags}
            if t == "add_tags":
                new = [*draft.tags, *(name for name in v if name.lower() not in have)]
            else:
                drop = {name.lower() for name in v}
                new = [name for name in draft.tags if name.lower() not in drop]
            if len(new) == len(draft.tags):
                return []
            old, draft.tags = draft.tags, new
            return [("tags", sorted(old, key=str.lower), sorted(new, key=str.lower))]
        if t == "set_notes":
            if draft.notes == v:
                return []
            old, draft.notes = draft.notes, v
            return [("notes", old, v)]
        if t == "append_notes":
            notes = draft.notes or ""
            if not v or notes.endswith(v):
                return []
            draft.notes = f"{notes} {v}" if notes else v
            return [("notes", notes, draft.notes)]
        if t == "split":
            if draft.has_split or draft.split:
                return []
            lines = split_lines_for(v, draft.amount)
            if lines is None:
                return []
            draft.split = lines
            return [("splits", [], lines)]
        if t == "mark_transfer":
            # Linking needs the saved rows: Outcome.write() links the row to its one
            # counterpart (in the named account, if any) or suggests its candidates.
            if draft.kind not in (None, Transaction.Kind.STANDARD) or draft.transfer is not None:
                return []
            draft.transfer = (v, rule_id)
            return [("transfer", None, str(v) if v else "any account")]
        if t == "exclude":
            if draft.kind == "adjustment":
                return []
            old, draft.kind = draft.kind, "adjustment"
            return [("kind", old, "adjustment")]
        return []


def actions_compile(actions, *, problems: Problems, path: str = "actions") -> list[CompiledAction] | None:
    if not isinstance(actions, list) or not actions or len(actions) > MAX_ACTIONS:
        problems.add(path, "invalid", f"actions is a list of 1 to {MAX_ACTIONS} actions.")
        return None
    compiled = []
    for i, action in enumerate(actions):
        where = f"{path}[{i}]"
        if not isinstance(action, dict) or set(action) - {"type", "value"}:
            problems.add(where, "invalid", 'An action is {"type": ..., "value": ...}.')
            continue
        kind = action.get("type")
        if kind not in TYPES:
            problems.add(f"{where}.type", "unknown_action", f"Unknown action; use one of {', '.join(TYPES)}.")
            continue
        if kind == "exclude" and not _has_kind():
            problems.add(f"{where}.type", "unavailable", "exclude needs transaction kinds, not available yet.")
            continue
        value = action.get("value")
        try:
            if kind == "set_category":
                value = _category(value)
            elif kind == "set_merchant":
                value = _merchant(value)
            elif kind in ("add_tags", "remove_tags"):
                value = _tag_names(value)
            elif kind in ("set_notes", "append_notes"):
                value = _notes(value)
            elif kind == "mark_transfer":
                value = _transfer_target(value)
            elif kind == "split":
                value = _split(value, problems, f"{where}.value")
                if value is None:
                    continue
        except ValueError as exc:
            problems.add(f"{where}.value", "invalid_value", str(exc))
            continue
        compiled.append(CompiledAction(kind, value))
    return compiled if len(compiled) == len(actions) else None
