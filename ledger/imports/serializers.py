"""Shapes only. The list and export build plain dicts with `transaction_row`
(a ModelSerializer costs milliseconds per page); the Output serializers
below document that shape for OpenAPI and match it field for field."""

import re

from drf_spectacular.utils import extend_schema_field

from config import serializers
from config.fields import AsciiDecimalField, BoundedDateField, JSONDictField, JSONListField, reads_text
from ledger.imports.profiles import PROFILE_FIELDS
from ledger.models import Import, ImportProfile, ImportRow


class RowNumbersField(serializers.ListField):
    """Row numbers: a JSON array of integers; in a form, repeated fields (force_rows=3&force_rows=7)
    or one comma-separated value (force_rows=3,7)."""

    child = serializers.IntegerField(min_value=2)

    def to_internal_value(self, data):
        if reads_text(self):
            items = [data] if isinstance(data, str) else data
            if isinstance(items, list | tuple):
                data = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
        return super().to_internal_value(data)


_TEXT = {"type": "string", "pattern": r"^[^\u0000]*$"}
_TEXTS = {"type": "array", "items": _TEXT}
ROW_FILTER_OPS = ("in", "eq", "regex", "empty")


def _text_or_texts(value, field):
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(item, str) for item in value)):
        if "\x00" not in (value if isinstance(value, str) else "".join(value)):
            return value
    field.fail("invalid")


@extend_schema_field({"oneOf": [_TEXT, _TEXTS]})
class ColumnNamesField(serializers.Field):
    """One column's header, or several (description may join more than one)."""

    default_error_messages = {"invalid": "Must be a column name or a list of column names."}

    def to_internal_value(self, data):
        return _text_or_texts(data, self)

    def to_representation(self, value):
        return value


@extend_schema_field({"oneOf": [
    {"type": "object", "required": ["column", "op", "value"],
     "properties": {"column": _TEXT, "op": {"type": "string", "enum": ["in"]}, "value": _TEXTS}},
    {"type": "object", "required": ["column", "value"],
     "properties": {"column": _TEXT, "op": {"type": "string", "enum": ["eq", "regex"], "default": "eq"},
                    "value": _TEXT}},
    {"type": "object", "required": ["column", "op"],
     "properties": {"column": _TEXT, "op": {"type": "string", "enum": ["empty"]}}},
]})  # fmt: skip
class RowFilterField(serializers.Field):
    """A row the import leaves out: its `column` is `in` a list, `eq` a text (the default), matches a
    `regex` (Python syntax), or is `empty`."""

    default_error_messages = {
        "invalid": "Must be an object with column, op (in, eq, regex or empty) and value.",
        "invalid_value": "in takes a list of texts; eq and regex one text.",
        "invalid_regex": "Not a valid regular expression: {error}.",
    }

    def to_internal_value(self, data):
        if not isinstance(data, dict) or not isinstance(data.get("column"), str) or "\x00" in data["column"]:
            self.fail("invalid")
        op = data.get("op", "eq")
        if op not in ROW_FILTER_OPS:
            self.fail("invalid")
        if op == "empty":
            return {"column": data["column"], "op": op}
        value = data.get("value")
        if (op == "in") != isinstance(value, list):
            self.fail("invalid_value")
        _text_or_texts(value, self)
        if op == "regex":
            try:
                re.compile(value)
            except re.error as exc:
                self.fail("invalid_regex", error=exc)
        return {"column": data["column"], "op": op, "value": value}

    def to_representation(self, value):
        return value


class ProfileFieldsSerializer(serializers.Serializer):
    """The fields of an import profile (also the overrides of an upload). In a multipart upload a
    list of texts is repeated parts, an object or a list of objects one part holding JSON."""

    format = serializers.ChoiceField(choices=ImportProfile.Format.choices, required=False)
    header_signature = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Header names that identify the bank's file."
    )
    delimiter = serializers.CharField(max_length=1, required=False, allow_blank=True, trim_whitespace=False)
    encoding = serializers.CharField(max_length=32, required=False, allow_blank=True)
    skip_rows = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    date_format = serializers.CharField(max_length=32, required=False, allow_blank=True)
    decimal_separator = serializers.ChoiceField(choices=[".", ",", ""], required=False)
    thousands_separator = serializers.ChoiceField(choices=["", ",", ".", " ", "'"], required=False)
    columns = JSONDictField(
        child=ColumnNamesField(),
        required=False,
        help_text='Role -> column header, e.g. {"date": "Datum", "amount": "Betrag"}.',
    )
    sign = serializers.ChoiceField(choices=ImportProfile.Sign.choices, required=False)
    direction_column = serializers.CharField(max_length=100, required=False, allow_blank=True)
    direction_out_values = serializers.ListField(child=serializers.CharField(), required=False)
    direction_in_values = serializers.ListField(child=serializers.CharField(), required=False)
    row_filters = JSONListField(child=RowFilterField(), required=False)
    category_map = JSONDictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text='Bank category -> Tally category or "ignore".',
    )
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)


class ImportProfileInputSerializer(ProfileFieldsSerializer):
    name = serializers.CharField(max_length=100)


class ImportProfileUpdateInputSerializer(ProfileFieldsSerializer):
    name = serializers.CharField(max_length=100, required=False)


class ImportProfileOutputSerializer(serializers.ModelSerializer):
    builtin = serializers.BooleanField(source="is_builtin")

    class Meta:
        model = ImportProfile
        fields = ["id", "key", "name", "builtin", *PROFILE_FIELDS, "created_at", "updated_at"]
        read_only_fields = fields


class ImportCreateInputSerializer(ProfileFieldsSerializer):
    file = serializers.FileField(help_text="CSV, OFX, QFX, QIF, CAMT.053, MT940 or XLSX.")
    account = serializers.UUIDField(help_text="The account the rows go to.")
    profile = serializers.CharField(
        max_length=64,
        required=False,
        default="auto",
        help_text="`auto` (detect from the header), a built-in profile's key, or a profile id.",
    )


class ImportCommitInputSerializer(serializers.Serializer):
    force_rows = RowNumbersField(required=False, default=list, help_text="Rows to import although duplicates.")
    skip_rows = RowNumbersField(required=False, default=list, help_text="Rows to leave out.")


class ImportSaveProfileInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ImportRowRuleSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="Null once the rule is deleted.")
    name = serializers.CharField(allow_null=True, help_text="Null once the rule is deleted.")


class ImportRowRuleChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    rule = serializers.UUIDField(allow_null=True)


class ImportRowOutputSerializer(serializers.Serializer):
    row = serializers.IntegerField(source="row_number", help_text="Spreadsheet row (CSV/XLSX) or entry number.")
    fate = serializers.ChoiceField(choices=ImportRow.Fate.choices)
    date = BoundedDateField(allow_null=True)
    amount = AsciiDecimalField(max_digits=12, decimal_places=2, allow_null=True,
                                      help_text="Positive is money out.")  # fmt: skip
    data = serializers.JSONField(help_text="The parsed fields (payee, description, notes, bank_category, ...).")
    message = serializers.CharField()
    cell = serializers.CharField(help_text="The column an error is about.")
    duplicate_of = serializers.UUIDField(allow_null=True)
    transaction_id = serializers.UUIDField(allow_null=True)
    rules = ImportRowRuleSerializer(
        many=True,
        help_text="The rules that changed the transaction this row wrote, in the order they acted (empty before "
        "the commit and when no rule changed it).",
    )
    rule_changes = ImportRowRuleChangeSerializer(
        many=True, help_text="What those rules changed (category, tags, notes, ...), each naming its rule."
    )


class ImportCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    new = serializers.IntegerField(source="new_count")
    duplicate = serializers.IntegerField(source="duplicate_count")
    error = serializers.IntegerField(source="error_count")
    filtered = serializers.IntegerField(source="filtered_count", help_text="Rows the profile's filters left out.")
    transfers_matched = serializers.IntegerField()
    imported = serializers.IntegerField(source="imported_count")


class ImportProfileRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    name = serializers.CharField()


class ImportOutputSerializer(serializers.ModelSerializer):
    counts = ImportCountsSerializer(source="*")
    profile = ImportProfileRefSerializer(allow_null=True)

    class Meta:
        model = Import
        fields = [
            "id", "account", "status", "filename", "format", "sha256", "profile", "detected_by", "profile_used",
            "counts", "processed", "warnings", "statement", "error", "created_at", "expires_at", "committed_at",
            "reverted_at",
        ]  # fmt: skip
        read_only_fields = fields


class ImportRowsPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = ImportRowOutputSerializer(many=True)


class ImportPreviewOutputSerializer(ImportOutputSerializer):
    rows = ImportRowOutputSerializer(many=True, source="preview_rows", help_text="The first rows with their fate.")

    class Meta(ImportOutputSerializer.Meta):
        fields = [*ImportOutputSerializer.Meta.fields, "rows"]
        read_only_fields = fields


class ImportDetailOutputSerializer(ImportOutputSerializer):
    rows = ImportRowsPageSerializer(source="rows_page")

    class Meta(ImportOutputSerializer.Meta):
        fields = [*ImportOutputSerializer.Meta.fields, "rows"]
        read_only_fields = fields


class ImportRowsQuerySerializer(serializers.Serializer):
    fate = serializers.ChoiceField(choices=ImportRow.Fate.choices, required=False)


# The one-call import (POST transactions/import), kept for the first importer's clients.


class ImportInputSerializer(ProfileFieldsSerializer):
    file = serializers.FileField(
        help_text="CSV (date, amount, merchant or description; optional category, currency, notes, external_id, "
        "tags), a bank's CSV/XLSX export, OFX, QFX, QIF, CAMT.053 or MT940."
    )
    account = serializers.UUIDField(
        required=False,
        help_text="Import into this account (rows in another currency are row errors). Default: each row's "
        "currency's default account (a row without one: your default currency); a currency you have no account "
        "in is a 400 naming its first row.",
    )
    atomic = serializers.BooleanField(default=False, help_text="Write nothing if any row is bad.")
    force_rows = RowNumbersField(required=False, default=list, help_text="Row numbers to import even if duplicates.")
    profile = serializers.CharField(
        max_length=64,
        required=False,
        default="auto",
        help_text="`auto` (a bank export is read with its built-in profile, any other table with positive "
        "amounts as money out unless `sign` says otherwise), a built-in profile's key, or a profile id.",
    )


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row number (the header is row 1).")
    message = serializers.CharField()
    cell = serializers.CharField(required=False, help_text="The column the error is about, when known.")


class ImportSkippedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    matched_id = serializers.UUIDField(allow_null=True, help_text="The existing transaction this row duplicates.")


class OneCallImportRefSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    account = serializers.UUIDField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Import.Status.choices)
    url = serializers.CharField(help_text="GET it for the import's progress, counts and rows.")


class ImportResultSerializer(serializers.Serializer):
    job_id = serializers.UUIDField(help_text="The (first) import's id, as `imports[0].id`.")
    imported = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = ImportRowErrorSerializer(many=True)
    skipped = ImportSkippedRowSerializer(many=True)
    total = serializers.IntegerField()
    transfers_matched = serializers.IntegerField(help_text="New rows linked as transfer legs.")
    imports = OneCallImportRefSerializer(many=True, help_text="One import per account the rows went to.")


JOB_STATUSES = ["pending", "running", "completed", "failed", "reverted", "expired"]


class ImportJobSerializer(serializers.Serializer):
    """The first importer's job shape, over an Import (or an ImportJob of before the statement importer)."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JOB_STATUSES)
    filename = serializers.CharField()
    total = serializers.IntegerField()
    processed = serializers.IntegerField()
    summary = serializers.JSONField(allow_null=True, help_text="The import's result once completed.")
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportQueuedSerializer(ImportJobSerializer):
    job_id = serializers.UUIDField(help_text="The same id as `id`.")
    url = serializers.CharField(help_text="Poll this (GET imports/{id}) until status is committed.")
    imports = OneCallImportRefSerializer(many=True, help_text="One import per account the rows go to.")
