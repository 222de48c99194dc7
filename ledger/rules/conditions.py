"""Rule conditions: a freely nested tree of {"all": [...]}, {"any": [...]},
{"not": {...}} over leaves {"field", "op", "value"} (fields and their
operators in ledger/rules/fields.py).

`conditions_compile` validates a tree strictly (every problem a 400 naming
its path, e.g. `conditions.any[2].all[0].op`) and turns it into
- a Python predicate over `fields.facts()` dicts, for new transactions
  (imports evaluate it per row: closures, no interpretation per call), and
- an equivalent Django Q, for preview and apply over existing rows.

Regular expressions run in PostgreSQL's engine, never Python's: Python's
`re` backtracks (`a.*a.*x` takes 0.6 s on 300 characters, one more `.*`
40 s) while PostgreSQL's NFA/DFA hybrid answers such patterns in
milliseconds, and its statement_timeout bounds the rest. Patterns are at
most 200 characters and are compiled by PostgreSQL when the rule is saved.
For new rows, `Compiled.prepare()` sends the distinct values of each
regex field of a batch to PostgreSQL once (`regex.py`), and the predicate
looks the answer up."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import reduce

from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from config.fields import DATE_RANGE_MESSAGE, date_in_range
from ledger.models import Transaction
from ledger.rules.errors import Problems
from ledger.rules.fields import CHOICE, DATE, FIELDS, NUMBER, OPS, TAGS, TEXT, WEEKDAYS
from merchants.categories import Category

MAX_DEPTH = 10
MAX_LEAVES = 100
MAX_IN = 100
MAX_TEXT = 255
MAX_REGEX = 200
NOTHING = Q(pk__in=[])


@dataclass
class RegexLeaf:
    field: str
    pattern: str
    path: str
    matched: set = field(default_factory=set)
    checked: set = field(default_factory=set)


@dataclass
class Compiled:
    predicate: object
    q: Q
    fields: set
    regexes: list

    def prepare(self, fact_rows):
        from ledger.rules.regex import regex_prepare

        regex_prepare(self.regexes, fact_rows)

    def matches(self, facts: dict) -> bool:
        return self.predicate(facts)


class _Walker:
    def __init__(self, problems: Problems):
        self.problems = problems
        self.leaves = 0
        self.fields: set[str] = set()
        self.regexes: list[RegexLeaf] = []

    def node(self, node, path: str, depth: int):
        """-> (predicate, Q) or None when invalid (the problem is recorded)."""
        if depth > MAX_DEPTH:
            self.problems.add(path, "too_deep", f"Conditions nest at most {MAX_DEPTH} levels deep.")
            return None
        if not isinstance(node, dict):
            self.problems.add(path, "invalid", "A condition is an object: {all|any: [...]}, {not: {...}} or a leaf.")
            return None
        groups = [key for key in ("all", "any", "not") if key in node]
        if groups:
            if len(node) != 1:
                extra = sorted(set(node) - {groups[0]})
                self.problems.add(
                    f"{path}.{extra[0]}" if extra else path,
                    "invalid",
                    "A group has exactly one key: all, any or not.",
                )
                return None
            key = groups[0]
            if key == "not":
                inner = self.node(node["not"], f"{path}.not", depth + 1)
                if inner is None:
                    return None
                pred, q = inner
                return (lambda facts: not pred(facts)), ~q
            children = node[key]
            if not isinstance(children, list) or not children:
                self.problems.add(f"{path}.{key}", "invalid", f"'{key}' takes a non-empty list of conditions.")
                return None
            compiled = [self.node(child, f"{path}.{key}[{i}]", depth + 1) for i, child in enumerate(children)]
            if any(c is None for c in compiled):
                return None
            preds = tuple(p for p, _ in compiled)
            qs = [q for _, q in compiled]
            if key == "all":
                return _all(preds), reduce(lambda a, b: a & b, qs)
            return _any(preds), reduce(lambda a, b: a | b, qs)
        return self.leaf(node, path)

    def leaf(self, node, path):
        self.leaves += 1
        if self.leaves == MAX_LEAVES + 1:
            self.problems.add(path, "too_many_conditions", f"A rule has at most {MAX_LEAVES} conditions.")
        unknown = sorted(set(node) - {"field", "op", "value"})
        if unknown:
            self.problems.add(f"{path}.{unknown[0]}", "invalid", "A leaf has only field, op and value.")
            return None
        name = node.get("field")
        spec = FIELDS.get(name) if isinstance(name, str) else None
        if spec is None:
            self.problems.add(f"{path}.field", "unknown_field", f"Unknown field; use one of {', '.join(FIELDS)}.")
            return None
        op = node.get("op")
        if op not in OPS[spec.type]:
            self.problems.add(
                f"{path}.op",
                "invalid_op",
                f"Operator {op!r} does not apply to {name} ({spec.type}); use one of {', '.join(OPS[spec.type])}.",
            )
            return None
        if op != "is_empty" and "value" not in node:
            self.problems.add(f"{path}.value", "required", f"Operator {op} needs a value.")
            return None
        try:
            value = _parse_value(name, spec.type, op, node.get("value", True))
        except ValueError as exc:
            self.problems.add(f"{path}.value", "invalid_value", str(exc))
            return None
        self.fields.add(name)
        return _leaf(self, spec, op, value, path)


def _all(preds):
    def predicate(facts):
        for p in preds:
            if not p(facts):
                return False
        return True

    return preds[0] if len(preds) == 1 else predicate


def _any(preds):
    def predicate(facts):
        for p in preds:
            if p(facts):
                return True
        return False

    return preds[0] if len(preds) == 1 else predicate


def _text(value, *, limit=MAX_TEXT, allow_empty=False) -> str:
    if not isinstance(value, str):
        raise ValueError("Must be a string.")
    if not value and not allow_empty:
        raise ValueError("Must not be empty.")
    if len(value) > limit:
        raise ValueError(f"At most {limit} characters.")
    return value


def _number(value) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError("Must be a number.")
    if isinstance(value, str) and not value.isascii():
        raise ValueError("Must be a number (ASCII digits).")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("Must be a number.")
    if not number.is_finite() or abs(number) >= Decimal("1e10"):
        raise ValueError("Must be a finite number below 10^10.")
    return number


def _date(value) -> datetime.date:
    try:
        parsed = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError("Must be a date (YYYY-MM-DD).")
    if not date_in_range(parsed):
        raise ValueError(DATE_RANGE_MESSAGE)
    return parsed


def _category(value) -> str:
    if isinstance(value, str):
        if value in Category.values:
            return value
        if value in Category.names:
            return Category[value].value
    raise ValueError(f"Unknown category; use one of {', '.join(Category.values)}.")


def _scalar(name, kind, value):
    if name == "category":
        return _category(value).lower()
    if name == "weekday" and isinstance(value, str) and value[:3].lower() in WEEKDAYS:
        return Decimal(WEEKDAYS[value[:3].lower()])
    if kind == TEXT:
        return _text(value).lower()
    if kind == NUMBER:
        number = _number(value)
        if name == "weekday" and number not in range(1, 8):
            raise ValueError("A weekday is 1 (Monday) to 7 (Sunday), or mon..sun.")
        if name == "day_of_month" and number not in range(1, 32):
            raise ValueError("A day of the month is 1 to 31.")
        return number
    if kind == DATE:
        return _date(value)
    if kind == CHOICE:
        if value not in ("out", "in"):
            raise ValueError("direction is 'out' (spending) or 'in' (income, refunds).")
        return value
    if kind == TAGS:
        return " ".join(_text(value, limit=64).split()).lower()
    raise ValueError("Unsupported.")


def _parse_value(name, kind, op, value):
    if op == "is_empty":
        if not isinstance(value, bool):
            raise ValueError("is_empty takes true or false (or no value: true).")
        return value
    if op == "regex":
        return _text(value, limit=MAX_REGEX)
    if op == "in":
        if not isinstance(value, list) or not value or len(value) > MAX_IN:
            raise ValueError(f"'in' takes a list of 1 to {MAX_IN} values.")
        return tuple(dict.fromkeys(_scalar(name, kind, v) for v in value))
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError("'between' takes [low, high] (both included).")
        low, high = (_scalar(name, kind, v) for v in value)
        if low > high:
            raise ValueError("'between' takes [low, high] with low <= high.")
        return low, high
    if op == "approx":
        if not isinstance(value, dict) or set(value) - {"value", "percent"} or "value" not in value:
            raise ValueError('approx takes {"value": amount, "percent": tolerance (default 5)}.')
        center = _scalar(name, kind, value["value"])
        percent = _number(value.get("percent", 5))
        if not 0 <= percent <= 100:
            raise ValueError("percent is between 0 and 100.")
        spread = abs(center) * percent / 100
        return center - spread, center + spread
    return _scalar(name, kind, value)


def _leaf(walker: _Walker, spec, op, value, path):
    """-> (predicate, Q) for one validated leaf."""
    name, kind, orm = spec.name, spec.type, spec.orm
    if kind == TAGS:
        return _tags_leaf(name, op, value)
    if op == "regex":
        leaf = RegexLeaf(name, value, f"{path}.value")
        walker.regexes.append(leaf)
        matched = leaf.matched
        pred = lambda facts: facts[name] in matched  # noqa: E731
        return pred, (Q(**{f"{orm}__iregex": value}) if orm else NOTHING)
    if kind == CHOICE:  # direction: out is a positive amount
        outs = {value} if op == "eq" else set(value) if op == "in" else {"out", "in"} - {value}
        q = reduce(lambda a, b: a | b, [Q(amount__gt=0) if d == "out" else Q(amount__lt=0) for d in outs], NOTHING)
        return (lambda facts: facts[name] in outs), q
    pred = _PREDICATES[op](name, value)
    if orm is None:  # no such column yet: the value is always empty, the leaf a constant
        return pred, (Q() if pred({name: ""}) else NOTHING)
    return pred, _q(orm, kind, op, value, nullable=name == "merchant")


def _q(orm, kind, op, value, *, nullable):
    if kind == TEXT:
        if op == "eq":
            return Q(**{f"{orm}__iexact": value})
        if op == "ne":
            q = ~Q(**{f"{orm}__iexact": value})
            return q | Q(**{f"{orm}__isnull": True}) if nullable else q
        if op in ("contains", "starts_with", "ends_with"):
            lookup = {"contains": "icontains", "starts_with": "istartswith", "ends_with": "iendswith"}[op]
            return Q(**{f"{orm}__{lookup}": value})
        if op == "in":
            return reduce(lambda a, b: a | b, (Q(**{f"{orm}__iexact": v}) for v in value))
        if op == "is_empty":
            empty = Q(**{orm: ""}) | Q(**{f"{orm}__isnull": True}) if nullable else Q(**{orm: ""})
            return empty if value else ~empty
    lookups = {"eq": "exact", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte", "in": "in", "between": "range"}
    if op == "approx":
        return Q(**{f"{orm}__range": value})
    if op == "ne":
        return ~Q(**{orm: value})
    return Q(**{f"{orm}__{lookups[op]}": value})


def _tags_leaf(name, op, value):
    through = Transaction.tags.through.objects.filter(transaction_id=OuterRef("pk"))
    if op == "is_empty":
        q = ~Exists(through) if value else Exists(through)
        return (lambda facts: (not facts[name]) == value), q
    names = {value} if op == "contains" else set(value)
    q = Q(Exists(through.annotate(_lname=Lower("tag__name")).filter(_lname__in=names)))
    return (lambda facts: not names.isdisjoint(facts[name])), q


def _text_pred(test):
    return lambda name, value: lambda facts: test(facts[name], value)


_PREDICATES = {
    "eq": _text_pred(lambda a, b: a == b),
    "ne": _text_pred(lambda a, b: a != b),
    "contains": _text_pred(lambda a, b: b in a),
    "starts_with": _text_pred(lambda a, b: a.startswith(b)),
    "ends_with": _text_pred(lambda a, b: a.endswith(b)),
    "in": lambda name, values: lambda facts, s=frozenset(values): facts[name] in s,
    "is_empty": _text_pred(lambda a, b: (a == "") == b),
    "gt": _text_pred(lambda a, b: a > b),
    "gte": _text_pred(lambda a, b: a >= b),
    "lt": _text_pred(lambda a, b: a < b),
    "lte": _text_pred(lambda a, b: a <= b),
    "between": _text_pred(lambda a, b: b[0] <= a <= b[1]),
    "approx": _text_pred(lambda a, b: b[0] <= a <= b[1]),
}


def conditions_compile(tree, *, problems: Problems | None = None, path: str = "conditions") -> Compiled | None:
    """Validate and compile a condition tree. Without `problems`, raise
    RuleInvalid on the first walk's problems; with it, record them there
    (the caller raises) and return None when invalid."""
    own = problems is None
    problems = problems or Problems()
    walker = _Walker(problems)
    result = walker.node(tree, path, 1)
    if walker.leaves > MAX_LEAVES:
        result = None
    if result is not None and walker.regexes:
        from ledger.rules.regex import regex_validate

        for leaf in walker.regexes:
            message = regex_validate(leaf.pattern)
            if message:
                problems.add(leaf.path, "invalid_regex", message)
                result = None
    if own:
        problems.raise_if_any()
    if result is None:
        return None
    pred, q = result
    return Compiled(predicate=pred, q=q, fields=walker.fields, regexes=walker.regexes)
