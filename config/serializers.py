"""DRF's serializers with JSON's types kept: every app writes `from config import serializers`
and gets rest_framework.serializers, except that the text, boolean, number, UUID and choice
fields (declared, or built by ModelSerializer) take only what the schema documents for them
(config.fields' Strict* fields: a JSON number is no string, "yes" no boolean)."""

from rest_framework import serializers as _drf

from config.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictEmailField,
    StrictFloatField,
    StrictIntegerField,
    StrictJSONField,
    StrictRegexField,
    StrictSlugField,
    StrictURLField,
    StrictUUIDField,
)

BooleanField = StrictBooleanField
CharField = StrictCharField
ChoiceField = StrictChoiceField
EmailField = StrictEmailField
FloatField = StrictFloatField
IntegerField = StrictIntegerField
JSONField = StrictJSONField
RegexField = StrictRegexField
SlugField = StrictSlugField
URLField = StrictURLField
UUIDField = StrictUUIDField

_STRICT = {
    _drf.BooleanField: StrictBooleanField,
    _drf.CharField: StrictCharField,
    _drf.EmailField: StrictEmailField,
    _drf.FloatField: StrictFloatField,
    _drf.IntegerField: StrictIntegerField,
    _drf.JSONField: StrictJSONField,
    _drf.SlugField: StrictSlugField,
    _drf.URLField: StrictURLField,
    _drf.UUIDField: StrictUUIDField,
}


class ModelSerializer(_drf.ModelSerializer):
    serializer_field_mapping = {
        model_field: _STRICT.get(field, field)
        for model_field, field in _drf.ModelSerializer.serializer_field_mapping.items()
    }
    serializer_choice_field = StrictChoiceField


def __getattr__(name):
    # Everything else (Serializer, ListField, ValidationError, ...) is DRF's own.
    return getattr(_drf, name)
