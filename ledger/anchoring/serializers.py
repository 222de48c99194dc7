from config import serializers
from config.fields import BoundedDateField
from ledger.models import MerkleBatch


class ProofStepSerializer(serializers.Serializer):
    position = serializers.ChoiceField(choices=["left", "right"], help_text="Where the sibling sits.")
    hash = serializers.CharField(help_text="Sibling hash, hex.")


class ProofFactsSerializer(serializers.Serializer):
    id = serializers.CharField()
    user_id = serializers.CharField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    date = serializers.CharField()
    merchant_raw = serializers.CharField()
    source = serializers.CharField()
    created_at = serializers.CharField()
    account_id = serializers.CharField(required=False, help_text="Hash version 2 and later.")


class ProofAnchorSerializer(serializers.Serializer):
    backend = serializers.CharField()
    ref = serializers.CharField()


class ProofSerializer(serializers.Serializer):
    proof_version = serializers.IntegerField()
    hash_version = serializers.IntegerField()
    transaction_id = serializers.UUIDField()
    transaction = ProofFactsSerializer(help_text="The hashed facts as the row holds them now, as strings.")
    transaction_hash = serializers.CharField(help_text="SHA-256 of the facts, recorded at anchoring.")
    leaf_hash = serializers.CharField(help_text="SHA-256(0x00 || transaction_hash).")
    leaf_index = serializers.IntegerField()
    leaf_count = serializers.IntegerField()
    path = ProofStepSerializer(many=True)
    root_hash = serializers.CharField()
    batch_date = BoundedDateField()
    anchor = ProofAnchorSerializer()
    row_matches = serializers.BooleanField(help_text="Whether the stored row still hashes to the leaf.")


class MerkleBatchSerializer(serializers.ModelSerializer):
    class Meta:
        model = MerkleBatch
        fields = (
            "id",
            "batch_date",
            "root_hash",
            "transaction_count",
            "anchor_backend",
            "anchor_ref",
            "cutoff",
            "hash_version",
            "created_at",
            "verified_at",
            "verification_ok",
        )


class VerifyInputSerializer(serializers.Serializer):
    date = BoundedDateField(
        required=False, help_text="Verify this batch now and answer with its report; omit to queue every batch."
    )


class VerificationProblemSerializer(serializers.Serializer):
    problem = serializers.ChoiceField(
        choices=[
            "row_changed",
            "hash_column_changed",
            "missing",
            "extra_leaf",
            "chunk_changed",
            "leaf_count_mismatch",
            "unknown_anchor_backend",
        ]
    )
    transaction_id = serializers.CharField(required=False)
    leaf_index = serializers.IntegerField(required=False, allow_null=True)
    leaf_range = serializers.ListField(child=serializers.IntegerField(), required=False)
    anchored_hash = serializers.CharField(required=False)
    recomputed_hash = serializers.CharField(required=False)
    anchored_leaves = serializers.IntegerField(required=False)
    expected = serializers.IntegerField(required=False)
    detail = serializers.CharField(required=False)


class BatchVerificationSerializer(serializers.Serializer):
    batch_date = BoundedDateField()
    transaction_count = serializers.IntegerField()
    rows_checked = serializers.IntegerField()
    root_matches = serializers.BooleanField()
    anchor_ok = serializers.BooleanField()
    ok = serializers.BooleanField()
    problem_count = serializers.IntegerField(help_text="All problems found; `problems` lists the first 1,000.")
    problems = VerificationProblemSerializer(many=True)


class QueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()
