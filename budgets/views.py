from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from budgets import selectors, services
from budgets.filters import BudgetFilterSet
from budgets.models import Budget
from budgets.reports import budget_performance_report
from budgets.serializers import (
    BudgetComparisonOutputSerializer,
    BudgetInputSerializer,
    BudgetOutputSerializer,
    BudgetPeriodOutputSerializer,
    BudgetRenewInputSerializer,
    BudgetRenewOutputSerializer,
    BudgetReportQuerySerializer,
    BudgetReportSerializer,
    BudgetStatusOutputSerializer,
    BudgetSuggestionsOutputSerializer,
    BudgetUpdateInputSerializer,
    ComparisonQuerySerializer,
    budget_data,
)
from config.api import TallyAPIMixin
from config.cache import cache_get, cache_set
from config.openapi import ConflictErrorResponseSerializer
from ledger.reports.views import ReportView, report_responses


class BudgetViewSet(
    TallyAPIMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = BudgetOutputSerializer
    filterset_class = BudgetFilterSet

    schema_model = Budget

    def user_queryset(self):
        return selectors.budget_list(user=self.request.user)

    def get_object(self):
        return selectors.budget_get(user=self.request.user, budget_id=self.kwargs["pk"])

    def _suggested(self):
        # One grouped query for the page, not one per budget.
        return {s.category: s.suggested_amount for s in selectors.budget_suggestions(user=self.request.user)}

    def _output(self, budget, **kwargs):
        budget.suggested_amount = self._suggested().get(budget.category)
        return Response(BudgetOutputSerializer(budget).data, **kwargs)

    def list(self, request, *args, **kwargs):
        # The FilterSet validates the parameters (a 400 with its errors, as DjangoFilterBackend
        # gives them); the selector applies them to the budgets' one statement.
        form = BudgetFilterSet.validation_form(request.query_params)
        if not form.is_valid():
            raise translate_validation(form.errors)
        page = self.paginate_queryset(selectors.budget_overview(user=request.user, filters=form.cleaned_data))
        return self.get_paginated_response([budget_data(budget) for budget in page])

    def retrieve(self, request, *args, **kwargs):
        return Response(budget_data(selectors.budget_overview_get(user=request.user, budget_id=kwargs["pk"])))

    @extend_schema(
        request=BudgetInputSerializer,
        responses={201: BudgetOutputSerializer, 200: BudgetOutputSerializer},
        description="Upsert on (user, category): 201 when created, 200 when the category's budget was updated.",
    )
    def create(self, request, *args, **kwargs):
        data = self.validated(BudgetInputSerializer)
        budget, created = services.budget_upsert(user=request.user, **data)
        budget = selectors.budget_get(user=request.user, budget_id=budget.pk)
        return self._output(budget, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(
        request=BudgetUpdateInputSerializer,
        responses={200: BudgetOutputSerializer, 409: ConflictErrorResponseSerializer},
    )
    def partial_update(self, request, *args, **kwargs):
        budget = self.get_object()
        data = self.validated(BudgetUpdateInputSerializer, partial=True)
        services.budget_update(budget=budget, data=data)
        return self._output(selectors.budget_get(user=request.user, budget_id=budget.pk))

    def perform_destroy(self, instance):
        services.budget_delete(budget=instance)

    @extend_schema(responses={200: BudgetStatusOutputSerializer})
    @action(detail=False, methods=["get"], url_path="status", filterset_class=None, pagination_class=None)
    def budget_status(self, request):
        key = services.status_cache_key(request.user.pk)
        body = cache_get(key)
        if body is None:
            body = BudgetStatusOutputSerializer(selectors.budget_status(user=request.user)).data
            cache_set(key, body, services.STATUS_CACHE_SECONDS)
        return Response(body)

    @extend_schema(
        parameters=[ComparisonQuerySerializer],
        responses={200: BudgetComparisonOutputSerializer},
    )
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def comparison(self, request):
        query = self.validated_query(ComparisonQuerySerializer)
        body = selectors.budget_comparison(user=request.user, month=query.get("month"))
        return Response(BudgetComparisonOutputSerializer(body).data)

    @extend_schema(responses={200: BudgetSuggestionsOutputSerializer})
    @action(detail=False, methods=["get"], filterset_class=None, pagination_class=None)
    def suggestions(self, request):
        rows = selectors.budget_suggestions(user=request.user)
        body = {
            "currency": request.user.base_currency,
            "unconverted": selectors.budget_suggestions_unconverted(user=request.user),
            "results": rows,
        }
        return Response(BudgetSuggestionsOutputSerializer(body).data)

    @extend_schema(
        request=BudgetRenewInputSerializer,
        responses={200: BudgetRenewOutputSerializer, 409: ConflictErrorResponseSerializer},
        description="Close the ended period and start the next one; catch_up=true renews period by period to "
        "today, at most 36 periods per request (caught_up=false: call again to continue).",
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def renew(self, request, pk=None):
        budget = self.get_object()
        data = self.validated(BudgetRenewInputSerializer)
        renewed = services.budget_renew(budget=budget, catch_up=data["catch_up"])
        output = selectors.budget_get(user=request.user, budget_id=budget.pk)
        output.suggested_amount = self._suggested().get(output.category)
        output.periods_renewed, output.caught_up = renewed.periods_renewed, renewed.caught_up
        return Response(BudgetRenewOutputSerializer(output).data)

    @extend_schema(responses={200: BudgetPeriodOutputSerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=None, serializer_class=BudgetPeriodOutputSerializer)
    def history(self, request, pk=None):
        budget = self.get_object()
        page = self.paginate_queryset(selectors.budget_period_list(budget=budget))
        return self.get_paginated_response(BudgetPeriodOutputSerializer(page, many=True).data)


class BudgetReportView(ReportView):
    query_serializer = BudgetReportQuerySerializer

    @extend_schema(
        parameters=[BudgetReportQuerySerializer],
        responses=report_responses(BudgetReportSerializer),
        description="Each budget's periods that overlap the last `months` calendar months, oldest first: "
        "budgeted, spent (recomputed from the ledger in the base currency; transfers, adjustments and deleted "
        "rows excluded, split lines by their own category), remaining, percentage and status.",
    )
    def get(self, request):
        data = budget_performance_report(user=request.user, **self.query(request))
        rows = [{"category": b["category"], **p} for b in data["budgets"] for p in b["periods"]]
        return self.answer(data, BudgetReportSerializer, rows)
