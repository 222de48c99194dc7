"""The tamper-evident ledger over HTTP: a transaction's Merkle proof
(``GET transactions/{id}/proof``, on TransactionViewSet) and, for staff, the
batches and their verification (``GET ledger/batches``, ``POST ledger/verify``)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from config.pagination import StrictLimitOffsetPagination
from ledger import anchoring, tasks
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
    batch_date = serializers.DateField()
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
    date = serializers.DateField(
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
    batch_date = serializers.DateField()
    transaction_count = serializers.IntegerField()
    rows_checked = serializers.IntegerField()
    root_matches = serializers.BooleanField()
    anchor_ok = serializers.BooleanField()
    ok = serializers.BooleanField()
    problem_count = serializers.IntegerField(help_text="All problems found; `problems` lists the first 1,000.")
    problems = VerificationProblemSerializer(many=True)


class QueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()


@extend_schema_view(
    list=extend_schema(description="Staff: every anchored batch, newest first, with its last verification."),
    retrieve=extend_schema(description="Staff: one batch by its date (YYYY-MM-DD)."),
)
class MerkleBatchViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, IsAdminUser]
    serializer_class = MerkleBatchSerializer
    pagination_class = StrictLimitOffsetPagination
    queryset = MerkleBatch.objects.defer("chunk_roots").order_by("-batch_date")
    lookup_field = "batch_date"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"

    @extend_schema(
        request=VerifyInputSerializer,
        responses={
            200: BatchVerificationSerializer,
            202: OpenApiResponse(QueuedSerializer, description="Every batch: queued; results land on the batches."),
        },
        description="Staff: recompute batches from the database. With a date, that batch is verified now and its "
        "report returned to the caller; without, a task verifies every batch and alerts staff about any that fail.",
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def verify(self, request):
        serializer = VerifyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch_date = serializer.validated_data.get("date")
        if batch_date is None:
            result = tasks.verify_ledger.delay()
            return Response({"task_id": result.id}, status=status.HTTP_202_ACCEPTED)
        # The caller reads the report; alerts are for the unattended runs.
        (report,) = anchoring.ledger_verify(batch_date=batch_date)
        return Response(BatchVerificationSerializer(report.as_dict()).data)
