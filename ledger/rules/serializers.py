from config import serializers
from ledger.models import Rule


class RuleInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    enabled = serializers.BooleanField(required=False, default=True)
    position = serializers.IntegerField(
        min_value=0, max_value=1_000_000, required=False, help_text="Run order, lowest first; default: last."
    )
    conditions = serializers.JSONField(
        help_text='A tree: {"all": [...]}, {"any": [...]}, {"not": {...}} nest freely (depth <= 10, <= 100 leaves); '
        'a leaf is {"field", "op", "value"}.'
    )
    actions = serializers.JSONField(help_text='[{"type": "set_category" | "add_tags" | ..., "value": ...}]')
    stop_processing = serializers.BooleanField(required=False, default=False)


class RuleUpdateInputSerializer(RuleInputSerializer):
    name = serializers.CharField(max_length=120, required=False)
    enabled = serializers.BooleanField(required=False)
    conditions = serializers.JSONField(required=False)
    actions = serializers.JSONField(required=False)
    stop_processing = serializers.BooleanField(required=False)


class RuleOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rule
        fields = (
            "id",
            "name",
            "enabled",
            "position",
            "conditions",
            "actions",
            "stop_processing",
            "applied_count",
            "last_applied_at",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields


class RuleFilterInputSerializer(serializers.Serializer):
    filter = serializers.DictField(
        required=False,
        default=dict,
        help_text="The transaction list's filters (since, until, category, q, tag, ...), to narrow the rows.",
    )


class ChangeSerializer(serializers.Serializer):
    field = serializers.CharField()
    old = serializers.JSONField(allow_null=True)
    new = serializers.JSONField(allow_null=True)


class RulePreviewRowSerializer(serializers.Serializer):
    transaction = serializers.DictField(help_text="The transaction as the list shows it.")
    changes = ChangeSerializer(many=True)


class RulePreviewSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = RulePreviewRowSerializer(many=True)


class RuleApplyOutputSerializer(serializers.Serializer):
    matched = serializers.IntegerField()
    changed = serializers.IntegerField()


class RuleTestInputSerializer(serializers.Serializer):
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    transaction = serializers.DictField(
        help_text="A draft transaction: merchant_raw, merchant, amount, date, notes, currency, category, tags, "
        "source, account, account_kind, bank_category, category_set_by_user."
    )


class RuleTestOutputSerializer(serializers.Serializer):
    matches = serializers.BooleanField()
    changes = ChangeSerializer(many=True)


class RuleSuggestionSerializer(serializers.Serializer):
    name = serializers.CharField()
    conditions = serializers.JSONField()
    actions = serializers.JSONField()
    corrections = serializers.IntegerField()
    last_corrected_at = serializers.DateTimeField()
