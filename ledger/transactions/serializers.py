"""Shapes only. The list and export build plain dicts with `transaction_row`
(a ModelSerializer costs milliseconds per page); the Output serializers
below document that shape for OpenAPI and match it field for field."""

import datetime

from config import serializers
from config.fields import AsciiDecimalField, BoundedDateField
from ledger.models import Transaction
from ledger.models.transactions import NOTES_MAX_LENGTH
from merchants.fields import CategoryField


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def transaction_row(row: dict) -> dict:
    """A `selectors.ROW_FIELDS` dict -> the API's JSON-safe transaction."""
    merchant_id = row["merchant_id"]
    return {
        "id": str(row["id"]),
        "account": str(row["account_id"]),
        "kind": row["kind"],
        "transfer": str(row["transfer_id"]) if row["transfer_id"] else None,
        "reconciled_at": _iso(row["reconciled_at"]),
        "amount": f"{row['amount']:.2f}",
        "currency": row["currency"],
        "amount_base": f"{row['amount_base']:.2f}" if row["amount_base"] is not None else None,
        "base_currency": row["base_currency"],
        "rate_date": row["rate_date"].isoformat() if row["rate_date"] else None,
        "date": row["date"].isoformat(),
        "merchant_raw": row["merchant_raw"],
        "merchant": (
            {
                "id": str(merchant_id),
                "canonical_name": row["merchant__canonical_name"],
                "category": row["merchant__category"],
            }
            if merchant_id
            else None
        ),
        "category": row["category"],
        "source": row["source"],
        "notes": row["notes"],
        "external_id": row["external_id"],
        "confidence": row["confidence"],
        "anomaly_score": row["anomaly_score"],
        "attachment_count": row.get("attachment_count", 0),
        "tags": list(row.get("tag_names") or []),
        "created_at": _iso(row["created_at"]),
        "updated_at": _iso(row["updated_at"]),
    }


def transaction_data(tx: Transaction) -> dict:
    merchant = tx.merchant if tx.merchant_id else None
    names = ("id", "account_id", "kind", "transfer_id", "reconciled_at", "amount", "currency", "date", "merchant_raw")
    names += ("amount_base", "base_currency", "rate_date")
    row = {name: getattr(tx, name) for name in (*names, "merchant_id")}
    row.update(
        {
            "merchant__canonical_name": merchant.canonical_name if merchant else None,
            "merchant__category": merchant.category if merchant else None,
        }
    )
    for name in ("category", "source", "notes", "external_id", "confidence", "anomaly_score"):
        row[name] = getattr(tx, name)
    row["created_at"], row["updated_at"] = tx.created_at, tx.updated_at
    row["attachment_count"] = tx.attachments.count() if tx.pk else 0
    row["tag_names"] = sorted(tx.tags.values_list("name", flat=True)) if tx.pk else []
    return transaction_row(row)


class MerchantNestedSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    canonical_name = serializers.CharField()
    category = CategoryField()


class TransactionOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    account = serializers.UUIDField()
    kind = serializers.ChoiceField(
        choices=Transaction.Kind.choices, help_text="transfer and adjustment rows are never spending or income."
    )
    transfer = serializers.UUIDField(allow_null=True, help_text="The Transfer this row is a leg of.")
    reconciled_at = serializers.DateTimeField(allow_null=True, help_text="Set: amount, date and account are final.")
    amount = AsciiDecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Positive: money out (spending). Negative: money in (income, refund).",
    )
    currency = serializers.CharField()
    amount_base = serializers.DecimalField(
        max_digits=14,
        decimal_places=2,
        allow_null=True,
        help_text="In base_currency, at the ECB rate of rate_date (the date or up to 7 days before); "
        "null when no rate exists yet (filled in when one is loaded), never converted at 1.",
    )
    base_currency = serializers.CharField(help_text="The user's base currency amount_base is in.")
    rate_date = serializers.DateField(allow_null=True, help_text="Null when no rate was needed (same currency).")
    date = BoundedDateField()
    merchant_raw = serializers.CharField()
    merchant = MerchantNestedSerializer(allow_null=True)
    category = CategoryField()
    source = serializers.ChoiceField(choices=Transaction.Source.choices)
    notes = serializers.CharField()
    external_id = serializers.CharField()
    confidence = serializers.JSONField(
        help_text='How the category was picked, e.g. {"category": 0.97, "method": "user_history"}.'
    )
    anomaly_score = serializers.FloatField(allow_null=True)
    attachment_count = serializers.IntegerField(min_value=0, help_text="Receipts and documents attached.")
    tags = serializers.ListField(child=serializers.CharField(), help_text="Tag names, sorted.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


_TAGS_HELP = "Tag names (created when new, matched whatever their case)."


class TransactionCreateInputSerializer(serializers.Serializer):
    amount = AsciiDecimalField(
        max_digits=12,
        decimal_places=2,
        non_zero=True,
        help_text="Positive: money out (spending). Negative: money in (income, refund).",
    )
    date = BoundedDateField()
    merchant_raw = serializers.CharField(max_length=255, required=False, help_text="The merchant as the bank shows it.")
    merchant = serializers.CharField(
        max_length=255, required=False, write_only=True, help_text="Alias of merchant_raw (the CSV column's name)."
    )
    account = serializers.UUIDField(
        required=False, help_text="Default: your default account in the currency (created on first use)."
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}\Z", required=False, help_text="ISO 4217; default: the account's (must equal it)."
    )
    category = CategoryField(required=False, help_text="Default: picked for you.")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTES_MAX_LENGTH)
    external_id = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list, max_length=50, help_text=_TAGS_HELP
    )
    allow_duplicate = serializers.BooleanField(
        default=False, help_text="Save even if the same amount, date and merchant already exist."
    )

    required_any_of = ("merchant_raw", "merchant")  # in the schema (config.openapi)

    def validate(self, attrs):
        alias = attrs.pop("merchant", None)
        if alias is not None and "merchant_raw" in attrs and attrs["merchant_raw"] != alias:
            raise serializers.ValidationError(
                {"merchant": ["merchant is an alias of merchant_raw; give one, or the same text in both."]},
                code="invalid",
            )
        if alias is not None:
            attrs["merchant_raw"] = alias
        if not attrs.get("merchant_raw"):
            raise serializers.ValidationError({"merchant_raw": ["This field is required."]}, code="required")
        return attrs


class TransactionUpdateInputSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, max_length=NOTES_MAX_LENGTH)
    category = CategoryField(required=False, help_text="Counts as a correction.")
    amount = AsciiDecimalField(max_digits=12, decimal_places=2, non_zero=True, required=False)
    date = BoundedDateField(required=False)
    merchant_raw = serializers.CharField(max_length=255, required=False)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=50,
        help_text=_TAGS_HELP + " Replaces the transaction's tags.",
    )


class TransactionChangeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    field = serializers.CharField(help_text="category, merchant, tags, notes, splits, kind, account, amount, date, ...")
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)
    by = serializers.ChoiceField(choices=["user", "rule", "import", "admin", "system"])
    rule = serializers.UUIDField(source="rule_id", allow_null=True)
    import_id = serializers.UUIDField(source="import_ref", allow_null=True)
    reason = serializers.CharField()
    at = serializers.DateTimeField()


class CorrectionInputSerializer(serializers.Serializer):
    transaction_id = serializers.UUIDField()
    new_category = CategoryField()
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class CorrectionOutputSerializer(serializers.Serializer):
    message = serializers.CharField()
    old_category = CategoryField()
    new_category = CategoryField()


class MerchantStatsInputSerializer(serializers.Serializer):
    date_from = BoundedDateField(required=False)
    date_to = BoundedDateField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)

    def validate(self, attrs):
        date_to = attrs.get("date_to") or datetime.date.today()
        date_from = attrs.get("date_from") or date_to - datetime.timedelta(days=90)
        if date_from > date_to:
            raise serializers.ValidationError({"date_from": ["Must be on or before date_to."]})
        return {**attrs, "date_from": date_from, "date_to": date_to}


class MerchantStatsRowSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    canonical_name = serializers.CharField()
    category = serializers.CharField()
    transaction_count = serializers.IntegerField()
    total_spent = AsciiDecimalField(max_digits=20, decimal_places=2, coerce_to_string=True)


class MerchantStatsOutputSerializer(serializers.Serializer):
    date_from = BoundedDateField()
    date_to = BoundedDateField()
    results = MerchantStatsRowSerializer(many=True)


class SplitLineSerializer(serializers.Serializer):
    amount = AsciiDecimalField(
        max_digits=12, decimal_places=2, non_zero=True, help_text="Same sign convention as the parent."
    )
    category = CategoryField()
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SplitsSerializer(serializers.Serializer):
    lines = SplitLineSerializer(
        many=True, max_length=50, help_text="2 to 50 lines adding up exactly to the amount; [] removes the split."
    )


class BulkSetSerializer(serializers.Serializer):
    category = CategoryField(required=False, help_text="Counts as corrections.")
    tags_add = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    tags_remove = serializers.ListField(child=serializers.CharField(max_length=64), required=False, max_length=50)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=NOTES_MAX_LENGTH)
    account = serializers.UUIDField(required=False, help_text="Move the rows to this account of yours.")


class BulkInputSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=10_000,
        error_messages={"max_length": "At most 10000 ids at once; use a filter for more."},
    )
    filter = serializers.DictField(required=False, help_text="The list's filters (since, until, category, tag, q...).")
    set = BulkSetSerializer(required=False)
    delete = serializers.BooleanField(required=False, default=False, help_text="Soft delete the rows instead.")


class BulkChangedSerializer(serializers.Serializer):
    category = serializers.IntegerField()
    notes = serializers.IntegerField()
    tags = serializers.IntegerField()
    account = serializers.IntegerField()


class BulkOutputSerializer(serializers.Serializer):
    matched = serializers.IntegerField()
    changed = BulkChangedSerializer()
    deleted = serializers.IntegerField()
