from config import serializers
from merchants.fields import CategoryField
from merchants.models import Merchant


class MerchantOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Merchant
        fields = ["id", "canonical_name", "category", "country", "aliases", "tags", "created_at", "updated_at"]
        read_only_fields = fields


class MerchantSearchHitSerializer(serializers.ModelSerializer):
    score = serializers.FloatField(help_text="1.0 exact, 0.9 alias, 0.7 prefix, else trigram similarity.")
    match = serializers.ChoiceField(choices=["exact", "alias", "prefix", "fuzzy"])

    class Meta:
        model = Merchant
        fields = ["id", "canonical_name", "category", "country", "aliases", "tags", "score", "match"]
        read_only_fields = fields


def merchant_hit_data(hit: Merchant) -> dict:
    """What MerchantSearchHitSerializer renders for a merchant_search hit (the
    search's hot path: a ModelSerializer builds its eight fields for every
    request, more than the rest of the answer costs)."""
    return {
        "id": str(hit.id),
        "canonical_name": hit.canonical_name,
        "category": hit.category,
        "country": hit.country,
        "aliases": list(hit.aliases),
        "tags": hit.tags,
        "score": float(hit.score),
        "match": hit.match,
    }


class MerchantSearchOutputSerializer(serializers.Serializer):
    query = serializers.CharField()
    results = MerchantSearchHitSerializer(many=True)


class MerchantSearchInputSerializer(serializers.Serializer):
    q = serializers.CharField(min_length=2, max_length=200)
    category = CategoryField(required=False)
    limit = serializers.IntegerField(min_value=1, max_value=100, default=20)


class MerchantCreateInputSerializer(serializers.Serializer):
    canonical_name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=64)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True, default="")
    aliases = serializers.ListField(
        child=serializers.CharField(max_length=200, allow_blank=True), required=False, default=list, max_length=200
    )
    tags = serializers.JSONField(required=False, default=list)

    def validate_tags(self, value):
        if not isinstance(value, list | dict):
            raise serializers.ValidationError("Must be a JSON list or object.")
        return value


class MerchantMergeInputSerializer(serializers.Serializer):
    source_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1, max_length=100)


class CategorySerializer(serializers.Serializer):
    value = serializers.CharField()
    key = serializers.CharField()
