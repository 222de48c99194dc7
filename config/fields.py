"""Input fields with the bounds every API input shares.

- Dates: 1900-01-01 to 2100-12-31. Outside that range a date is a typo or a probe,
  and month arithmetic, period catch-up and anomaly scoring overflow near year 1 or 9999.
- Amounts: ASCII digits only. Python's Decimal reads "١٢" and "１２" as 12, which no
  bank statement or client means."""

import datetime

from django import forms
from django_filters import BooleanFilter, DateFilter, NumberFilter
from rest_framework import serializers

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


class AsciiDecimalField(serializers.DecimalField):
    def to_internal_value(self, data):
        if isinstance(data, str) and not data.isascii():
            self.fail("invalid")
        return super().to_internal_value(data)


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
