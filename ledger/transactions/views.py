import base64
import datetime
import json
import uuid
from urllib.parse import urlencode

from django.http import StreamingHttpResponse
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import UUID_PATTERN, TallyAPIMixin
from config.openapi import ConflictErrorResponseSerializer, PayloadTooLargeErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from ledger.anchoring import services as anchoring
from ledger.anchoring.serializers import ProofSerializer
from ledger.books.selectors import account_get
from ledger.imports import exporting, one_call
from ledger.imports.serializers import (
    ImportInputSerializer,
    ImportJobSerializer,
    ImportQueuedSerializer,
    ImportResultSerializer,
)
from ledger.models import Transaction
from ledger.transactions import selectors, services
from ledger.transactions.bulk import transactions_bulk_edit
from ledger.transactions.filters import TransactionFilterSet
from ledger.transactions.serializers import (
    BulkInputSerializer,
    BulkOutputSerializer,
    CorrectionInputSerializer,
    CorrectionOutputSerializer,
    MerchantStatsInputSerializer,
    MerchantStatsOutputSerializer,
    SplitsSerializer,
    TransactionChangeSerializer,
    TransactionCreateInputSerializer,
    TransactionOutputSerializer,
    TransactionUpdateInputSerializer,
    transaction_data,
    transaction_row,
)
from ledger.transactions.splits import split_lines_data, transaction_splits_replace

# Filters that read other tables than ledger_transaction: their counts are not cached.
UNCACHED_COUNT_FILTERS = ("tag", "has_attachments")
PAGE_PARAMS = ("limit", "offset")


class TransactionPagination(StrictLimitOffsetPagination):
    def get_paginated_response_schema(self, schema):
        # Two answers: the offset page, or with ?cursor= the keyset page (keyset_page below).
        if not isinstance(schema, dict):  # drf-spectacular laying out a list example: the offset page
            return super().get_paginated_response_schema(schema)
        return {
            "oneOf": [
                super().get_paginated_response_schema(schema),
                {
                    "type": "object",
                    "required": ["next_cursor", "results"],
                    "properties": {
                        "next_cursor": {
                            "type": "string",
                            "nullable": True,
                            "description": "The cursor of the next page; null on the last one.",
                        },
                        "results": schema,
                    },
                },
            ]
        }

    def get_count(self, rows):
        return rows.count()


class TransactionRows:
    """What the list hands its paginator: one user's filtered rows, counted
    and paged by the list's selectors (SQL per filter shape, list_sql)."""

    def __init__(self, *, user, filters, cache_shape: str | None):
        self.user, self.filters, self.cache_shape = user, filters, cache_shape

    def count(self) -> int:
        return selectors.transaction_list_count(user=self.user, filters=self.filters, cache_shape=self.cache_shape)

    def __getitem__(self, page: slice) -> list[dict]:
        return selectors.transaction_list_page(
            user=self.user, filters=self.filters, offset=page.start, limit=page.stop - page.start
        )


def encode_cursor(row: dict) -> str:
    raw = json.dumps([row["date"].isoformat(), str(row["id"])], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[datetime.date, uuid.UUID]:
    try:
        day, tx_id = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
        return datetime.date.fromisoformat(day), uuid.UUID(tx_id)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError({"cursor": ["Invalid cursor."]}, code="invalid")


def keyset_page(request, filters, paginator) -> dict:
    """Keyset (cursor) page over the date order: WHERE (date, id) < cursor,
    read straight from ledger_tx_user_date_idx at any depth (an offset
    walks and discards every earlier row). No count."""
    ordering = request.query_params.get("ordering") or "-date"
    if ordering not in ("-date", "date"):
        raise ValidationError({"cursor": ["Cursor pagination orders by date or -date only."]}, code="invalid")
    if request.query_params.get("offset"):
        raise ValidationError({"offset": ["Use either offset or cursor, not both."]}, code="invalid")
    limit = paginator.get_limit(request)
    token = request.query_params.get("cursor")
    after = decode_cursor(token) if token else None
    rows = selectors.transaction_list_after(user=request.user, filters=filters, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "next_cursor": encode_cursor(rows[-1]) if more else None,
        "results": [transaction_row(row) for row in rows],
    }


@extend_schema_view(
    list=extend_schema(
        description="The caller's transactions, newest first. Deleted ones are never listed. limit/offset pages "
        "by default ({count, next, previous, results}); with `cursor` the answer is {next_cursor, results} "
        "instead (no count), `ordering` must then be date or -date and `offset` is refused (400).",
        parameters=[
            OpenApiParameter(
                "cursor",
                str,
                required=False,
                description="Keyset pagination, opt-in: send `cursor=` (empty) for the first page, then the "
                "`next_cursor` of the previous answer (opaque; null on the last page). The response is then "
                "{next_cursor, results}; ordering must be date or -date and offset is not allowed. Constant "
                "time at any depth, unlike a deep offset.",
            )
        ],
    ),
    destroy=extend_schema(
        description="Soft delete: hidden everywhere, restorable with POST {id}/restore. A reconciled row (or a "
        "transfer leg whose other leg is reconciled) is a 409 `reconciled`."
    ),
)
class TransactionViewSet(TallyAPIMixin, viewsets.GenericViewSet):
    pagination_class = TransactionPagination
    serializer_class = TransactionOutputSerializer
    filterset_class = TransactionFilterSet
    lookup_value_regex = UUID_PATTERN

    schema_model = Transaction

    def user_queryset(self):
        return selectors.transaction_list(user=self.request.user)

    def _get(self, pk):
        return selectors.transaction_get(user=self.request.user, transaction_id=pk)

    def filter_queryset(self, queryset):
        # With no filter parameter the FilterSet hands the queryset back as it is: skip building and
        # validating its form (the plain first page is the list's most frequent request).
        if not any(name in self.request.query_params for name in TransactionFilterSet.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def list_filters(self):
        """The FilterSet validates the parameters, as DjangoFilterBackend does (a 400 with its
        errors); the list's selectors apply them."""
        params = self.request.query_params
        if not any(name in params for name in TransactionFilterSet.base_filters):
            return selectors.transaction_list_filters(user=self.request.user, cleaned=None)
        form = TransactionFilterSet.validation_form(params)
        if not form.is_valid():
            raise translate_validation(form.errors)
        return selectors.transaction_list_filters(user=self.request.user, cleaned=form.cleaned_data)

    def list(self, request):
        filters = self.list_filters()
        if "cursor" in request.query_params:
            return Response(keyset_page(request, filters, self.paginator))
        cache_shape = None
        if not any(request.query_params.get(name) for name in UNCACHED_COUNT_FILTERS):
            # Counted once per ledger version, named by the filter parameters (the page's own are no part of it).
            cache_shape = urlencode(
                sorted((k, v) for k, values in request.query_params.lists() if k not in PAGE_PARAMS for v in values)
            )
        rows = TransactionRows(user=request.user, filters=filters, cache_shape=cache_shape)
        page = self.paginate_queryset(rows)
        return self.get_paginated_response([transaction_row(row) for row in page])

    def retrieve(self, request, pk=None):
        return Response(transaction_data(self._get(pk)))

    @extend_schema(
        request=TransactionCreateInputSerializer,
        responses={201: TransactionOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Manual entry. A likely duplicate (same amount, date and merchant) is a 409 with existing_id "
        "unless allow_duplicate is true; a date on or before the account's last reconciliation is a 409 "
        "reconciled (reconciled_through).",
    )
    def create(self, request):
        data = self.validated(TransactionCreateInputSerializer)
        if "account" in data:
            data["account"] = account_get(user=request.user, account_id=data["account"])
        tx = services.transaction_create(user=request.user, source=Transaction.Source.MANUAL, **data)
        return Response(transaction_data(tx), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TransactionUpdateInputSerializer,
        responses={200: TransactionOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="A change to an anchored fact (amount, date, merchant) is a 409 anchored: book a correction "
        "with POST transactions/correct instead.",
    )
    def partial_update(self, request, pk=None):
        tx = self._get(pk)
        serializer = TransactionUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        tx = services.transaction_update(transaction=tx, user=request.user, **serializer.validated_data)
        return Response(transaction_data(tx))

    @extend_schema(responses={204: None, 409: ConflictErrorResponseSerializer})
    def destroy(self, request, pk=None):
        services.transaction_delete(transaction=self._get(pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=None,
        responses={200: TransactionOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Undo a soft delete. A row dated on or before its account's last reconciliation is a 409 "
        "reconciled (reconciled_through): undo the reconciliation first.",
    )
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        tx = selectors.transaction_get_any(user=request.user, transaction_id=pk)
        return Response(transaction_data(services.transaction_restore(transaction=tx, user=request.user)))

    @extend_schema(
        responses={200: ProofSerializer, 409: ConflictErrorResponseSerializer},
        description="The Merkle proof of an anchored transaction (409 not_anchored before its first nightly "
        "anchoring). Check it offline with `python -m ledger.verify_proof proof.json`.",
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def proof(self, request, pk=None):
        return Response(anchoring.transaction_proof(user=request.user, transaction_id=pk))

    @extend_schema(
        responses={200: TransactionChangeSerializer(many=True)},
        description="The audit trail: every change to category, merchant, tags, notes, splits, kind, account or an "
        "edited fact, oldest first, with who made it (user, rule, import, admin, system).",
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=StrictLimitOffsetPagination)
    def changes(self, request, pk=None):
        page = self.paginate_queryset(selectors.transaction_changes(transaction=self._get(pk)))
        return self.get_paginated_response(TransactionChangeSerializer(page, many=True).data)

    @extend_schema(
        methods=["PUT"],
        request=SplitsSerializer,
        responses={200: SplitsSerializer},
        description="Replace the split lines (2 to 50, adding up exactly to the amount: otherwise a 400 with "
        "`difference`); [] removes the split and restores the parent's category. Audited.",
    )
    @extend_schema(methods=["GET"], responses={200: SplitsSerializer})
    @action(detail=True, methods=["get", "put"], filterset_class=None, pagination_class=None)
    def splits(self, request, pk=None):
        tx = self._get(pk)
        if request.method == "GET":
            return Response(SplitsSerializer({"lines": split_lines_data(tx.id)}).data)
        data = self.validated(SplitsSerializer)
        lines = transaction_splits_replace(transaction=tx, user=request.user, lines=data["lines"])
        return Response(SplitsSerializer({"lines": lines}).data)

    @extend_schema(
        request=BulkInputSerializer,
        responses={200: BulkOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Change or delete many transactions at once: `ids` (up to 10,000; any id that is not one of "
        "yours is a 404 and nothing changes) or `filter` (the list's filters), and `set` or `delete`. Atomic, "
        "audited, one event.",
    )
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def bulk(self, request):
        data = self.validated(BulkInputSerializer)
        result = transactions_bulk_edit(
            user=request.user,
            ids=data.get("ids"),
            filters=data.get("filter"),
            set=data.get("set"),
            delete=data["delete"],
        )
        return Response(BulkOutputSerializer(result).data)

    @extend_schema(request=CorrectionInputSerializer, responses={200: CorrectionOutputSerializer})
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def correct(self, request):
        data = self.validated(CorrectionInputSerializer)
        tx = self._get(data["transaction_id"])
        body = services.transaction_correct(
            transaction=tx, user=request.user, new_category=data["new_category"], reason=data["reason"]
        )
        return Response(CorrectionOutputSerializer(body).data)

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        responses={
            200: ImportResultSerializer,
            202: OpenApiResponse(
                ImportQueuedSerializer,
                description="Large file: previewed, committing as a task; poll `url` (GET imports/{id}).",
            ),  # fmt: skip
            409: ConflictErrorResponseSerializer,
            413: PayloadTooLargeErrorResponseSerializer,
        },
        description="One-call import: the statement importer's preview and commit in one request, into `account` "
        "or each row's currency's default account. A file with more rows than the async threshold answers 202 "
        "with the import and the URL to poll. Duplicates are skipped and reported with the id they matched; "
        "force_rows imports them anyway; atomic=true writes nothing if a row is bad (400 invalid_rows).",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="import",
        parser_classes=[MultiPartParser, FormParser],
        filterset_class=None,
        pagination_class=None,
    )
    def import_csv(self, request):
        data = self.validated(ImportInputSerializer)
        upload, account, profile = data.pop("file"), data.pop("account", None), data.pop("profile")
        atomic, force_rows = data.pop("atomic"), data.pop("force_rows")
        outcome = one_call.transactions_import(
            user=request.user, upload=upload, account_id=account, atomic=atomic, force_rows=force_rows,
            profile=profile, overrides=data,
        )  # fmt: skip
        if outcome.queued:
            return Response(ImportQueuedSerializer(one_call.one_call_queued(outcome)).data,
                            status=status.HTTP_202_ACCEPTED)  # fmt: skip
        return Response(ImportResultSerializer({"job_id": outcome.imports[0].id, **outcome.result}).data)

    @extend_schema(
        responses={200: ImportJobSerializer},
        description="A one-call import in the job shape of the first importer (GET imports/{id} has the rows).",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=rf"import/(?P<job_id>{UUID_PATTERN})",
        filterset_class=None,
        pagination_class=None,
    )
    def import_status(self, request, job_id=None):
        return Response(ImportJobSerializer(one_call.one_call_status(user=request.user, job_id=job_id)).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", str, enum=["csv", "json"], default="csv", description="File format."),
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/json"): TransactionOutputSerializer(many=True),
        },
        description="Streams every matching transaction (same filters as the list) as a download.",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def export(self, request):
        fmt = request.query_params.get("format") or "csv"  # empty counts as not sent, like every query value
        if fmt not in ("csv", "json"):
            raise ValidationError({"format": ["Must be csv or json."]}, code="invalid_choice")
        queryset = self.filter_queryset(self.get_queryset())
        if fmt == "csv":
            chunks, content_type = exporting.stream_csv(queryset, user=request.user), "text/csv; charset=utf-8"
        else:
            chunks, content_type = exporting.stream_json(queryset), "application/json"
        response = StreamingHttpResponse(exporting.for_server(request, chunks), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="transactions-{datetime.date.today()}.{fmt}"'
        return response


class MerchantStatsView(TallyAPIMixin, APIView):
    """Spending per merchant is ledger data: served here, at merchants/stats."""

    @extend_schema(
        operation_id="merchants_stats_retrieve",
        parameters=[MerchantStatsInputSerializer],
        responses={200: MerchantStatsOutputSerializer},
        description="The caller's most used merchants (count and total of non-deleted transactions) "
        "between date_from and date_to (default: the last 90 days).",
    )
    def get(self, request):
        params = self.validated_query(MerchantStatsInputSerializer)
        rows = selectors.merchant_stats(user=request.user, **params)
        body = {"date_from": params["date_from"], "date_to": params["date_to"], "results": rows}
        return Response(MerchantStatsOutputSerializer(body).data)
