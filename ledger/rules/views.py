"""/api/v1/rules: CRUD, preview, apply, test, suggestions."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from config.api import UUID_PATTERN
from config.openapi import ClientErrorResponseSerializer
from config.pagination import StrictLimitOffsetPagination
from ledger.models import Rule
from ledger.rules import selectors, services
from ledger.rules.serializers import (
    RuleApplyOutputSerializer,
    RuleFilterInputSerializer,
    RuleInputSerializer,
    RuleOutputSerializer,
    RulePreviewSerializer,
    RuleSuggestionSerializer,
    RuleTestInputSerializer,
    RuleTestOutputSerializer,
    RuleUpdateInputSerializer,
)
from ledger.transactions.audit import jsonable
from ledger.transactions.selectors import transaction_rows
from ledger.transactions.serializers import transaction_row


def _validated(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_view(
    list=extend_schema(description="The caller's rules in the order they run."),
    create=extend_schema(
        request=RuleInputSerializer,
        # 404: a mark_transfer action naming an account that is not the caller's.
        responses={201: RuleOutputSerializer, 404: ClientErrorResponseSerializer},
        description="Every problem in conditions or actions is a 400 naming its path, e.g. "
        "`conditions.any[2].all[0].op`.",
    ),
    partial_update=extend_schema(request=RuleUpdateInputSerializer, responses={200: RuleOutputSerializer}),
    destroy=extend_schema(responses={204: None}),
)
class RuleViewSet(viewsets.GenericViewSet):
    pagination_class = StrictLimitOffsetPagination
    serializer_class = RuleOutputSerializer
    lookup_value_regex = UUID_PATTERN
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Rule.objects.none()
        return selectors.rule_list(user=self.request.user)

    def _get(self, pk):
        return selectors.rule_get(user=self.request.user, rule_id=pk)

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RuleOutputSerializer(page, many=True).data)

    def create(self, request):
        rule = services.rule_create(user=request.user, **_validated(RuleInputSerializer, request))
        return Response(RuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(RuleOutputSerializer(self._get(pk)).data)

    def partial_update(self, request, pk=None):
        serializer = RuleUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        rule = services.rule_update(rule=self._get(pk), **serializer.validated_data)
        return Response(RuleOutputSerializer(rule).data)

    def destroy(self, request, pk=None):
        services.rule_delete(rule=self._get(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=RuleFilterInputSerializer,
        responses={200: RulePreviewSerializer},
        description="The caller's existing transactions this rule matches (one SQL query; limit/offset pages, with "
        "a count) and the change each would get. Nothing is written.",
    )
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        data = _validated(RuleFilterInputSerializer, request)
        compiled = services.rule_compiled(self._get(pk))
        matching = selectors.rule_matching(user=request.user, compiled=compiled, filters=data["filter"])
        # The drafts read the merchant's and the account's names: joined, not a query per row.
        page = self.paginate_queryset(matching.select_related("merchant", "account"))
        rows = {row["id"]: row for row in transaction_rows(matching.filter(id__in=[tx.id for tx in page]))}
        results = [
            {"transaction": transaction_row(rows[item["transaction_id"]]), "changes": jsonable(item["changes"])}
            for item in services.rule_preview(compiled=compiled, transactions=page)
        ]
        return self.get_paginated_response(results)

    @extend_schema(
        request=RuleFilterInputSerializer,
        responses={200: RuleApplyOutputSerializer},
        description="Apply this rule to the caller's existing transactions it matches (optionally narrowed by "
        "`filter`), in short chunks; audited; running it again changes nothing.",
    )
    @action(detail=True, methods=["post"], pagination_class=None)
    def apply(self, request, pk=None):
        data = _validated(RuleFilterInputSerializer, request)
        result = services.rule_apply(user=request.user, rule=self._get(pk), filters=data["filter"])
        return Response(RuleApplyOutputSerializer(result).data)

    @extend_schema(
        request=RuleTestInputSerializer, responses={200: RuleTestOutputSerializer, 404: ClientErrorResponseSerializer}
    )
    @action(detail=False, methods=["post"], pagination_class=None)
    def test(self, request):
        data = _validated(RuleTestInputSerializer, request)
        result = services.rule_test(user=request.user, **data)
        return Response(RuleTestOutputSerializer(jsonable(result)).data)

    @extend_schema(
        responses={200: RuleSuggestionSerializer(many=True)},
        description="Rules proposed from the caller's category corrections (3 or more corrections of one merchant "
        "to one category), each ready to POST to /rules.",
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def suggestions(self, request):
        return Response(RuleSuggestionSerializer(selectors.rule_suggestions(user=request.user), many=True).data)
