"""Shapes only. The list and export build plain dicts with `transaction_row`
(a ModelSerializer costs milliseconds per page); the Output serializers
below document that shape for OpenAPI and match it field for field."""

from rest_framework import serializers

from ledger.models import ImportJob


class RowNumbersField(serializers.ListField):
    """Row numbers as repeated form fields (force_rows=3&force_rows=7) or one
    comma-separated value (force_rows=3,7)."""

    child = serializers.IntegerField(min_value=2)

    def to_internal_value(self, data):
        if isinstance(data, str):
            data = [data]
        flat = [part.strip() for item in data for part in str(item).split(",") if part.strip()]
        return super().to_internal_value(flat)


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
