"""Serializer fields shared by every app that takes a category."""

from config import serializers
from merchants.categories import Category

_BY_KEY = {member.name: member.value for member in Category}


def category_from_input(value):
    """A category's value ("Food & Dining") from its value or its key
    (FOOD_DINING, as GET /api/v1/categories lists both); anything else as is."""
    if isinstance(value, str) and value.strip().upper() in _BY_KEY:
        return _BY_KEY[value.strip().upper()]
    return value


class CategoryField(serializers.ChoiceField):
    """A category by value or by key; always stored and answered as the value."""

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Category.choices)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(category_from_input(data))
