import datetime
from decimal import Decimal

import pytest

from ledger.models import Transaction
from ledger.rules.conditions import MAX_DEPTH, conditions_compile
from ledger.rules.errors import RuleInvalid
from ledger.rules.fields import FIELDS, Draft, annotate_for_rules, fact_getters, facts
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db


def _facts(**values):
    base = {"merchant_raw": "AMZN Mktp US", "amount": Decimal("75.00"), "date": datetime.date(2024, 3, 4)}
    base.update(values)
    return facts(Draft(**base), fact_getters(FIELDS))


def _matches(tree, **values):
    compiled = conditions_compile(tree)
    row = _facts(**values)
    compiled.prepare([row])
    return compiled.matches(row)


def _errors(tree):
    with pytest.raises(RuleInvalid) as caught:
        conditions_compile(tree)
    return {path: code for path, code, _ in caught.value.problems}


AMAZON_BIG = {
    "all": [
        {
            "any": [
                {"field": "merchant_raw", "op": "contains", "value": "AMZN"},
                {"field": "merchant_raw", "op": "contains", "value": "amazon"},
            ]
        },
        {"field": "amount", "op": "gt", "value": 50},
    ]
}


def test_or_inside_and_matches_either_branch_case_insensitively():
    assert _matches(AMAZON_BIG, merchant_raw="amzn mktp")
    assert _matches(AMAZON_BIG, merchant_raw="Amazon.com")
    assert not _matches(AMAZON_BIG, merchant_raw="Amazon.com", amount=Decimal("20"))
    assert not _matches(AMAZON_BIG, merchant_raw="Corner Cafe")


def test_and_inside_or_and_not_nest_freely():
    tree = {
        "any": [
            {
                "all": [
                    {"field": "weekday", "op": "in", "value": ["sat", "sun"]},
                    {"field": "abs_amount", "op": "gte", "value": "100"},
                ]
            },
            {"not": {"field": "direction", "op": "eq", "value": "out"}},
        ]
    }
    assert _matches(tree, date=datetime.date(2024, 3, 2), amount=Decimal("150"))  # a Saturday
    assert not _matches(tree, date=datetime.date(2024, 3, 4), amount=Decimal("150"))  # a Monday
    assert _matches(tree, date=datetime.date(2024, 3, 4), amount=Decimal("-5"))  # money in


def test_number_date_and_tag_operators():
    assert _matches({"field": "amount", "op": "between", "value": [70, 80]})
    assert _matches({"field": "amount", "op": "approx", "value": {"value": "72", "percent": 5}})
    assert not _matches({"field": "amount", "op": "approx", "value": {"value": "70", "percent": 5}})
    assert _matches({"field": "date", "op": "lte", "value": "2024-03-04"})
    assert _matches({"field": "day_of_month", "op": "eq", "value": 4})
    assert _matches({"field": "tags", "op": "contains", "value": "Work"}, tags=["work", "travel"])
    assert _matches({"field": "tags", "op": "is_empty"})
    assert _matches({"field": "notes", "op": "is_empty", "value": True})
    assert _matches({"field": "category", "op": "eq", "value": "UNCATEGORIZED"}, category="Uncategorized")


def test_regex_runs_in_postgresql_and_is_case_insensitive():
    assert _matches({"field": "merchant_raw", "op": "regex", "value": "^amzn\\s+mk"})
    assert not _matches({"field": "merchant_raw", "op": "regex", "value": "^mktp"})
    # A pattern Python's re needs ~40 s for on 300 characters.
    assert not _matches({"field": "merchant_raw", "op": "regex", "value": "a.*a.*a.*x"}, merchant_raw="a" * 255)


def test_every_problem_names_its_path():
    tree = {
        "any": [
            {"field": "merchant_raw", "op": "contains", "value": "x"},
            {"field": "nope", "op": "eq", "value": 1},
            {"all": [{"field": "amount", "op": "contains", "value": "1"}]},
            {"field": "merchant_raw", "op": "regex", "value": "(unclosed"},
            {"field": "amount", "op": "between", "value": [5, 1]},
        ]
    }
    # Structural problems first; patterns are compiled once the tree is sound.
    assert _errors(tree) == {
        "conditions.any[1].field": "unknown_field",
        "conditions.any[2].all[0].op": "invalid_op",
        "conditions.any[4].value": "invalid_value",
    }
    errors = _errors({"all": [{"field": "merchant_raw", "op": "regex", "value": "(unclosed"}]})
    assert errors == {"conditions.all[0].value": "invalid_regex"}


def test_depth_and_size_are_bounded():
    leaf = {"field": "amount", "op": "gt", "value": 1}
    deep = leaf
    for _ in range(MAX_DEPTH):
        deep = {"not": deep}
    assert "too_deep" in _errors(deep).values()
    assert "too_many_conditions" in _errors({"any": [leaf] * 101}).values()
    assert conditions_compile({"any": [leaf] * 100})


def test_the_sql_form_selects_exactly_what_python_matches(user):
    rows = [
        TransactionFactory(user=user, merchant_raw="AMZN Mktp", amount=Decimal("60")),
        TransactionFactory(user=user, merchant_raw="Amazon Prime", amount=Decimal("51")),
        TransactionFactory(user=user, merchant_raw="AMZN", amount=Decimal("10")),
        TransactionFactory(user=user, merchant_raw="Corner Cafe", amount=Decimal("80")),
    ]
    compiled = conditions_compile(AMAZON_BIG)
    queryset = annotate_for_rules(Transaction.objects.filter(user=user), compiled.fields).filter(compiled.q)
    assert set(queryset.values_list("id", flat=True)) == {rows[0].id, rows[1].id}
