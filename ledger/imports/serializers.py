"""Shapes only. The list and export build plain dicts with `transaction_row`
(a ModelSerializer costs milliseconds per page); the Output serializers
below document that shape for OpenAPI and match it field for field."""

import json

from config import serializers
from config.fields import AsciiDecimalField, BoundedDateField, reads_text
from ledger.imports.profiles import PROFILE_FIELDS
from ledger.models import Import, ImportJob, ImportProfile, ImportRow


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


class ImportInputSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV: date, amount, merchant (or description); optional category, currency, notes, external_id."
    )
    account = serializers.UUIDField(
        required=False,
        help_text="Import into this account (rows in another currency are errors). Default: "
        "each row's currency's default account.",
    )
    atomic = serializers.BooleanField(default=False, help_text="Write nothing if any row is bad.")
    force_rows = RowNumbersField(required=False, default=list, help_text="Row numbers to import even if duplicates.")


class ImportRowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Spreadsheet row number (the header is row 1).")
    message = serializers.CharField()


class ImportSkippedRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    matched_id = serializers.UUIDField(help_text="The existing transaction this row duplicates.")


class ImportResultSerializer(serializers.Serializer):
    job_id = serializers.UUIDField()
    imported = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    errors = ImportRowErrorSerializer(many=True)
    skipped = ImportSkippedRowSerializer(many=True)
    total = serializers.IntegerField()
    transfers_matched = serializers.IntegerField(help_text="New rows linked as transfer legs.")


class ImportJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = ["id", "status", "filename", "total", "processed", "summary", "error", "created_at", "finished_at"]
        read_only_fields = fields


class JSONValueField(serializers.JSONField):
    """A JSON value in a JSON body, or the same value as a JSON string in a multipart form."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError("Must be valid JSON.")
        return super().to_internal_value(data)


class ProfileFieldsSerializer(serializers.Serializer):
    """The fields of an import profile (also the overrides of an upload)."""

    format = serializers.ChoiceField(choices=ImportProfile.Format.choices, required=False)
    header_signature = JSONValueField(required=False)
    delimiter = serializers.CharField(max_length=1, required=False, allow_blank=True, trim_whitespace=False)
    encoding = serializers.CharField(max_length=32, required=False, allow_blank=True)
    skip_rows = serializers.IntegerField(min_value=0, max_value=1000, required=False)
    date_format = serializers.CharField(max_length=32, required=False, allow_blank=True)
    decimal_separator = serializers.ChoiceField(choices=[".", ",", ""], required=False)
    thousands_separator = serializers.ChoiceField(choices=["", ",", ".", " ", "'"], required=False)
    columns = JSONValueField(
        required=False, help_text='Role -> column header, e.g. {"date": "Datum", "amount": "Betrag"}.'
    )
    sign = serializers.ChoiceField(choices=ImportProfile.Sign.choices, required=False)
    direction_column = serializers.CharField(max_length=100, required=False, allow_blank=True)
    direction_out_values = JSONValueField(required=False)
    direction_in_values = JSONValueField(required=False)
    row_filters = JSONValueField(required=False)
    category_map = JSONValueField(required=False, help_text='Bank category -> Tally category or "ignore".')
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
