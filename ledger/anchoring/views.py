"""The tamper-evident ledger over HTTP: a transaction's Merkle proof
(``GET transactions/{id}/proof``, on TransactionViewSet) and, for staff, the
batches and their verification (``GET ledger/batches``, ``POST ledger/verify``)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from config.pagination import StrictLimitOffsetPagination
from ledger.anchoring import services as anchoring
from ledger.anchoring import tasks
from ledger.anchoring.serializers import (
    BatchVerificationSerializer,
    MerkleBatchSerializer,
    QueuedSerializer,
    VerifyInputSerializer,
)
from ledger.models import MerkleBatch


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
