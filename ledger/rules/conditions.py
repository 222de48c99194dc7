"""Rule conditions: a freely nested tree of {"all": [...]}, {"any": [...]},
{"not": {...}} over leaves {"field", "op", "value"} (fields and their
operators in ledger/rules/fields.py).

`conditions_compile` validates a tree strictly (every problem a 400 naming
its path, e.g. `conditions.any[2].all[0].op`) and turns it into
- a Python expression over `fields.facts()` values, compiled once into a
  predicate for new transactions (imports evaluate it per row: one flat
  expression, no interpretation and no nested calls per row; RuleSet fuses
  the expressions of all a user's rules into one scanner), and
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
    # The condition as one Python expression over locals `x_<field>`, its
    # constants named `_c<n>_` in `constants` (RuleSet renames them to fuse rules).
    source: str = "True"
    constants: dict = field(default_factory=dict)

    def prepare(self, fact_rows):
        self.prepare_values({leaf.field: {row[leaf.field] for row in fact_rows} for leaf in self.regexes})

    def prepare_values(self, values: dict):
        """As prepare, from each regex field's distinct values ({field: set})."""
        from ledger.rules.regex import regex_prepare

        regex_prepare(self.regexes, values)

    def matches(self, facts: dict) -> bool:
        return self.predicate(facts)


class _Walker:
    def __init__(self, problems: Problems):
        self.problems = problems
        self.leaves = 0
        self.fields: set[str] = set()
        self.regexes: list[RegexLeaf] = []
        self.constants: dict[str, object] = {}

    def const(self, value) -> str:
        name = f"_c{len(self.constants)}_"
        self.constants[name] = value
        return name

    def node(self, node, path: str, depth: int):
        """-> (Python expression, Q) or None when invalid (the problem is recorded)."""
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
                src, q = inner
                return f"(not {src})", ~q
            children = node[key]
            if not isinstance(children, list) or not children:
                self.problems.add(f"{path}.{key}", "invalid", f"'{key}' takes a non-empty list of conditions.")
                return None
            compiled = [self.node(child, f"{path}.{key}[{i}]", depth + 1) for i, child in enumerate(children)]
            if any(c is None for c in compiled):
                return None
            joiner = " and " if key == "all" else " or "
            src = "(" + joiner.join(s for s, _ in compiled) + ")"
            qs = [q for _, q in compiled]
            if key == "all":
                return src, reduce(lambda a, b: a & b, qs)
            return src, reduce(lambda a, b: a | b, qs)
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
    """-> (Python expression, Q) for one validated leaf."""
    name, kind, orm = spec.name, spec.type, spec.orm
    x = f"x_{name}"  # field names are identifiers from FIELDS, never user text
    if kind == TAGS:
        return _tags_leaf(walker, x, op, value)
    if op == "regex":
        leaf = RegexLeaf(name, value, f"{path}.value")
        walker.regexes.append(leaf)
        # `matched` is filled by prepare() before evaluation; the expression keeps a reference.
        return f"({x} in {walker.const(leaf.matched)})", (Q(**{f"{orm}__iregex": value}) if orm else NOTHING)
    if kind == CHOICE:  # direction: out is a positive amount
        outs = {value} if op == "eq" else set(value) if op == "in" else {"out", "in"} - {value}
        q = reduce(lambda a, b: a | b, [Q(amount__gt=0) if d == "out" else Q(amount__lt=0) for d in outs], NOTHING)
        return f"({x} in {walker.const(frozenset(outs))})", q
    src = _leaf_source(walker, x, op, value)
    if orm is None:  # no such column yet: the value is always empty, the leaf a constant
        return src, (Q() if eval(src, dict(walker.constants), {x: ""}) else NOTHING)  # noqa: S307 (our own source)
    return src, _q(orm, kind, op, value, nullable=name == "merchant")


def _leaf_source(walker: _Walker, x: str, op: str, value) -> str:
    if op in ("between", "approx"):
        return f"({walker.const(value[0])} <= {x} <= {walker.const(value[1])})"
    if op == "in":
        return f"({x} in {walker.const(frozenset(value))})"
    c = walker.const(value)
    return {
        "eq": f"({x} == {c})",
        "ne": f"({x} != {c})",
        "contains": f"({c} in {x})",
        "starts_with": f"{x}.startswith({c})",
        "ends_with": f"{x}.endswith({c})",
        "is_empty": f"(({x} == '') == {c})",
        "gt": f"({x} > {c})",
        "gte": f"({x} >= {c})",
        "lt": f"({x} < {c})",
        "lte": f"({x} <= {c})",
    }[op]


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


def _tags_leaf(walker: _Walker, x, op, value):
    through = Transaction.tags.through.objects.filter(transaction_id=OuterRef("pk"))
    if op == "is_empty":
        q = ~Exists(through) if value else Exists(through)
        return f"((not {x}) == {walker.const(value)})", q
    names = {value} if op == "contains" else set(value)
    q = Q(Exists(through.annotate(_lname=Lower("tag__name")).filter(_lname__in=names)))
    return f"(not {walker.const(frozenset(names))}.isdisjoint({x}))", q


def predicate_compile(source: str, constants: dict, fields) -> object:
    """One function over a facts dict from a condition's expression."""
    lines = ["def predicate(f):"]
    lines += [f"    x_{name} = f[{name!r}]" for name in sorted(fields)]
    lines.append(f"    return bool({source})")
    namespace = dict(constants)
    exec("\n".join(lines), namespace)  # noqa: S102 (source built from validated trees, values are constants)
    return namespace["predicate"]


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
    source, q = result
    return Compiled(
        predicate=predicate_compile(source, walker.constants, walker.fields),
        q=q,
        fields=walker.fields,
        regexes=walker.regexes,
        source=source,
        constants=walker.constants,
    )
