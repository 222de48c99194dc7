"""Input fields with the bounds every API input shares.

- Dates: 1900-01-01 to 2100-12-31. Outside that range a date is a typo or a probe,
  and month arithmetic, period catch-up and anomaly scoring overflow near year 1 or 9999.
- Amounts: decimal strings of ASCII digits only. Python's Decimal reads "١٢" and "１２" as 12,
  which no bank statement or client means.
- JSON types: the Strict* fields below (config.serializers hands them to every app)."""

import datetime
import json
import re
import uuid
from decimal import Decimal

from django import forms
from django.http import QueryDict
from django_filters import BooleanFilter, DateFilter, NumberFilter
from rest_framework import serializers
from rest_framework.fields import empty

from config.parsers import NUL, SURROGATE, json_text_matching, surrogate_error

DATE_MIN = datetime.date(1900, 1, 1)
DATE_MAX = datetime.date(2100, 12, 31)
DATE_RANGE_MESSAGE = f"Dates must be between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."


def date_in_range(value: datetime.date) -> bool:
    return DATE_MIN <= value <= DATE_MAX


class BoundedDateField(serializers.DateField):
    default_error_messages = {"date_out_of_range": DATE_RANGE_MESSAGE}

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not date_in_range(parsed):
            self.fail("date_out_of_range")
        return parsed


class BoundedDateFormField(forms.DateField):
    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None and not date_in_range(parsed):
            raise forms.ValidationError(DATE_RANGE_MESSAGE, code="date_out_of_range")
        return parsed


class BoundedDateFilter(DateFilter):
    field_class = BoundedDateFormField


# A decimal as text, the one way the schema documents it: no exponent, no spaces, no "+".
_DECIMAL_TEXT = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class AsciiDecimalField(serializers.DecimalField):
    """A decimal string (JSON numbers are floats: never money). A minus sign is refused
    where min_value is 0 or more ("-0" is not a count of units); non_zero=True refuses 0
    (the schema's pattern says both: config.openapi.decimal_pattern)."""

    default_error_messages = {"zero": "Amount must not be zero."}

    def __init__(self, *args, non_zero: bool = False, **kwargs):
        self.non_zero = non_zero
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, Decimal):
            if not isinstance(data, str) or not _DECIMAL_TEXT.fullmatch(data):
                self.fail("invalid")
            if data.startswith("-") and self.min_value is not None and self.min_value >= 0:
                self.fail("min_value", min_value=self.min_value)
        value = super().to_internal_value(data)
        if self.non_zero and value == 0:
            self.fail("zero")
        return value


class AsciiDecimalFormField(forms.DecimalField):
    def to_python(self, value):
        if isinstance(value, str) and not value.isascii():
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AsciiNumberFilter(NumberFilter):
    field_class = AsciiDecimalFormField


class BoundedDateTimeField(serializers.DateTimeField):
    default_error_messages = {"date_out_of_range": DATE_RANGE_MESSAGE}

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        if not date_in_range(parsed.date()):
            self.fail("date_out_of_range")
        return parsed


class RepeatedQueryParamField(serializers.ListField):
    """A repeatable query parameter (?account=a&account=b). Sent empty (?account=) it counts as
    not sent, like every optional query value."""

    def get_value(self, dictionary):
        if isinstance(dictionary, QueryDict):
            values = [value for value in dictionary.getlist(self.field_name) if value != ""]
            return values or empty
        return super().get_value(dictionary)


class StrictJSONField(serializers.JSONField):
    """Any JSON value, stored as jsonb: a NUL in a key or string is refused (jsonb cannot hold it)."""

    default_error_messages = {"null_characters_not_allowed": "Null characters are not allowed."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if json_text_matching(value, NUL):
            self.fail("null_characters_not_allowed")
        return value


class JSONInFormMixin:
    """A structured value (list, object) that a form/multipart body carries as one part holding
    JSON (config.openapi declares the part's encoding as application/json); a JSON body carries
    the value itself."""

    default_error_messages = {"invalid_json": "Must be valid JSON."}

    def get_value(self, dictionary):
        if isinstance(dictionary, QueryDict):
            return dictionary[self.field_name] if self.field_name in dictionary else empty
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if isinstance(data, str) and reads_text(self):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid_json")
            surrogate = json_text_matching(data, SURROGATE)  # a part's JSON may spell "\ud800"
            if surrogate:
                raise surrogate_error(*surrogate)
        return super().to_internal_value(data)


class JSONListField(JSONInFormMixin, serializers.ListField):
    pass


class JSONDictField(JSONInFormMixin, serializers.DictField):
    default_error_messages = {"null_key": "Keys must not contain NUL characters."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if any("\x00" in key for key in value):  # PostgreSQL's jsonb cannot store them
            self.fail("null_key")
        return value


class StrictBooleanFormField(forms.Field):
    """true/false (or 1/0); empty means "not filtered"; anything else is an error, not
    silently "not filtered" as django-filter's NullBooleanField makes it."""

    widget = forms.TextInput
    default_error_messages = {"invalid": "Must be true or false."}
    _VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        parsed = self._VALUES.get(str(value).strip().lower())
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed


class StrictBooleanFilter(BooleanFilter):
    field_class = StrictBooleanFormField


# JSON keeps its types: a string field takes a JSON string, a boolean one true or false, a
# number one a number. DRF's fields coerce ("full_name": 1.5 becomes "1.5", "auto_renew": "yes"
# becomes true), which the schema does not say and a generated client cannot know. A query string
# or a form/multipart body carries only text, so there text is parsed as DRF does.


def reads_text(field) -> bool:
    """Whether the field's serializer reads a query string or a form/multipart body."""
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


class _TextOnly:
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictCharField(_TextOnly, serializers.CharField):
    pass


class StrictRegexField(_TextOnly, serializers.RegexField):
    pass


class StrictEmailField(_TextOnly, serializers.EmailField):
    pass


class StrictURLField(_TextOnly, serializers.URLField):
    pass


class StrictSlugField(_TextOnly, serializers.SlugField):
    pass


class StrictUUIDField(serializers.UUIDField):
    def to_internal_value(self, data):
        if not isinstance(data, str | uuid.UUID):  # DRF reads an integer as UUID(int=...)
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data):
        # Choices are text: 1 is not "1" and true is not "True".
        if not isinstance(data, str) and all(isinstance(key, str) for key in self.choices):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false in JSON; in text, true/false/1/0 (any case). Absent from a form or query
    string means not sent (DRF reads an absent HTML checkbox as false)."""

    default_empty_html = empty
    _TEXT = {"true": True, "false": False, "1": True, "0": False}

    def to_internal_value(self, data):
        if isinstance(data, bool):
            return data
        if isinstance(data, str) and reads_text(self) and data.lower() in self._TEXT:
            return self._TEXT[data.lower()]
        self.fail("invalid", input=data)


def _is_json_number(data) -> bool:
    return isinstance(data, int | float) and not isinstance(data, bool)


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if not reads_text(self) and not _is_json_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data):
        if not reads_text(self) and not _is_json_number(data):
            self.fail("invalid")
        return super().to_internal_value(data)
