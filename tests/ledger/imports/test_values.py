"""Cell-level rules: amounts with each separator setting and explicit date formats."""

import datetime
from decimal import Decimal

import pytest

from ledger.imports.parsers.types import RowProblem
from ledger.imports.parsers.values import AmountParser, DateParser


@pytest.mark.parametrize(
    ("decimal", "thousands", "raw", "expected"),
    [
        (",", "", "1.234,56", Decimal("1234.56")),
        (",", ".", "-1.234,56", Decimal("-1234.56")),
        (".", ",", "1,234.56", Decimal("1234.56")),
        (".", "", "1,234", Decimal("1234.00")),
        (",", "", "1.234", Decimal("1234.00")),
        ("", "", "12,5", Decimal("12.50")),
        (".", "'", "1'234'567.89", Decimal("1234567.89")),
        (".", "", "12.3400", Decimal("12.34")),
    ],
)
def test_amounts(decimal, thousands, raw, expected):
    assert AmountParser(decimal, thousands)(raw)[0] == expected


@pytest.mark.parametrize("raw", ["12.345", "1,2,3", "abc", "--5", "12,50", "99999999999.00"])
def test_amount_errors_with_point_decimal(raw):
    with pytest.raises(RowProblem):
        AmountParser(".", "")(raw)


def test_empty_amount_is_none():
    assert AmountParser()("  ") is None


def test_explicit_date_format():
    parser = DateParser("%d.%m.%y")

    assert parser("24.09.24") == datetime.date(2024, 9, 24)
    with pytest.raises(RowProblem):
        parser("2024-09-24")
