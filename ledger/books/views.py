"""/api/v1/accounts and /api/v1/transfers: parse,
call one service or selector of ledger.books, shape the answer."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import UUID_PATTERN
from config.openapi import ConflictErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from ledger.books import selectors, services
from ledger.books.filters import AccountFilterSet
from ledger.books.serializers import (
    AccountDeleteQuerySerializer,
    AccountInputSerializer,
    AccountOutputSerializer,
    AccountUpdateInputSerializer,
    BalanceQuerySerializer,
    BalanceSeriesSerializer,
    ReconcileInputSerializer,
    ReconcileOutputSerializer,
    ReconcileUndoOutputSerializer,
    TransferInputSerializer,
    TransferMatchInputSerializer,
    TransferOutputSerializer,
    TransferSuggestionOutputSerializer,
)
from ledger.models import Account, Transfer


def _validated(serializer_class, data, **kwargs):
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(description="Your accounts with balances, open ones first."),
    create=extend_schema(
        request=AccountInputSerializer, responses={201: AccountOutputSerializer, 409: ConflictErrorResponseSerializer}
    ),
    partial_update=extend_schema(
        request=AccountUpdateInputSerializer,
        responses={200: AccountOutputSerializer, 409: ConflictErrorResponseSerializer},
    ),
    destroy=extend_schema(
        parameters=[AccountDeleteQuerySerializer],
        responses={
            204: None,
            200: AccountOutputSerializer,
            409: ConflictErrorResponseSerializer,
        },
        description="Deletes an account that never held a transaction (204). One with rows is closed instead "
        "(200, the closed account); a non-zero balance needs force=true (409 non_zero_balance otherwise).",
    ),
)
class AccountViewSet(viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = AccountOutputSerializer
    filterset_class = AccountFilterSet
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Account.objects.none()
        return selectors.account_list(user=self.request.user)

    def _get(self, pk):
        return selectors.account_get(user=self.request.user, account_id=pk)

    def _out(self, account, **kwargs):
        return Response(
            AccountOutputSerializer(
                selectors.account_get(user=self.request.user, account_id=account.pk), context={"request": self.request}
            ).data,
            **kwargs,
        )

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        converted = selectors.account_balances_base(user=request.user, accounts=page)
        return self.get_paginated_response(
            AccountOutputSerializer(page, many=True, context={"balances_base": converted}).data
        )

    def retrieve(self, request, pk=None):
        return Response(AccountOutputSerializer(self._get(pk), context={"request": request}).data)

    def create(self, request):
        account = services.account_create(user=request.user, **_validated(AccountInputSerializer, request.data))
        return self._out(account, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        account = self._get(pk)
        data = _validated(AccountUpdateInputSerializer, request.data, partial=True)
        return self._out(services.account_update(account=account, **data))

    def destroy(self, request, pk=None):
        account = self._get(pk)
        force = _validated(AccountDeleteQuerySerializer, request.query_params)["force"]
        closed = services.account_delete(account=account, force=force)
        if closed is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self._out(closed)

    @extend_schema(
        parameters=[BalanceQuerySerializer],
        responses={200: BalanceSeriesSerializer},
        description="The balance at the end of each day, week or month from `since` to `until` (default: the "
        "last 365 days, monthly), with the money in and out of each period. One query.",
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def balances(self, request, pk=None):
        account = self._get(pk)
        query = _validated(BalanceQuerySerializer, request.query_params)
        series = selectors.account_balance_series(account=account, **query)
        body = {"account": account.id, "currency": account.currency, "interval": query["interval"], "results": series}
        return Response(BalanceSeriesSerializer(body).data)

    @extend_schema(
        request=ReconcileInputSerializer,
        responses={200: ReconcileOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Reconcile to a statement: live rows up to `date` become reconciled (amount, date and "
        "account final: 409 reconciled); a difference becomes one adjustment row, never spending.",
    )
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None)
    def reconcile(self, request, pk=None):
        account = self._get(pk)  # someone else's account is a 404 before any 400
        data = _validated(ReconcileInputSerializer, request.data)
        body = services.account_reconcile(account=account, user=request.user, **data)
        return Response(ReconcileOutputSerializer(body).data)

    @extend_schema(
        request=None,
        responses={200: ReconcileUndoOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Undo the newest reconciliation (its adjustment row is deleted).",
    )
    @action(detail=True, methods=["post"], url_path="reconcile/undo", filterset_class=None, pagination_class=None)
    def reconcile_undo(self, request, pk=None):
        body = services.reconciliation_undo(account=self._get(pk), user=request.user)
        return Response(ReconcileUndoOutputSerializer(body).data)


@extend_schema_view(
    list=extend_schema(description="Your transfers, newest first."),
    create=extend_schema(
        request=TransferInputSerializer,
        responses={201: TransferOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Creates both legs at once. Across currencies, to_amount is what arrived.",
    ),
    destroy=extend_schema(
        responses={204: None}, description="Unlinks: both legs stay as standard rows with their earlier categories."
    ),
)
class TransferViewSet(viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = TransferOutputSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Transfer.objects.none()
        return selectors.transfer_list(user=self.request.user)

    def list(self, request):
        return self.get_paginated_response(
            TransferOutputSerializer(self.paginate_queryset(self.get_queryset()), many=True).data
        )

    def retrieve(self, request, pk=None):
        return Response(TransferOutputSerializer(selectors.transfer_get(user=request.user, transfer_id=pk)).data)

    def create(self, request):
        data = _validated(TransferInputSerializer, request.data)
        data["from_account"] = selectors.account_get(user=request.user, account_id=data["from_account"])
        data["to_account"] = selectors.account_get(user=request.user, account_id=data["to_account"])
        transfer = services.transfer_create(user=request.user, **data)
        body = TransferOutputSerializer(selectors.transfer_get(user=request.user, transfer_id=transfer.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        services.transfer_delete(transfer=selectors.transfer_get(user=request.user, transfer_id=pk), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        responses={200: TransferSuggestionOutputSerializer(many=True)},
        description="Candidate pairs matching did not link on its own: opposite amounts in two of your accounts "
        "within 4 days (across currencies: the converted amount within 5 %).",
    )
    @action(detail=False, methods=["get"])
    def suggestions(self, request):
        page = self.paginate_queryset(selectors.suggestion_list(user=request.user))
        return self.get_paginated_response(TransferSuggestionOutputSerializer(page, many=True).data)

    @extend_schema(
        request=TransferMatchInputSerializer,
        responses={201: TransferOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Link two existing rows as a transfer (a suggestion, or any pair of yours).",
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def match(self, request):
        data = _validated(TransferMatchInputSerializer, request.data)
        transfer = services.transfer_match(user=request.user, **data)
        body = TransferOutputSerializer(selectors.transfer_get(user=request.user, transfer_id=transfer.pk)).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={200: TransferSuggestionOutputSerializer},
        description="Reject a suggestion: remembered, the pair is never suggested or linked again.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path=rf"suggestions/(?P<suggestion_id>{UUID_PATTERN})/reject",
        pagination_class=None,
    )
    def reject(self, request, suggestion_id=None):
        suggestion = selectors.suggestion_get(user=request.user, suggestion_id=suggestion_id)
        return Response(TransferSuggestionOutputSerializer(services.suggestion_reject(suggestion=suggestion)).data)
