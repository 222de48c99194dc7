"""/api/v1/reports/spending, cashflow and trends: validate the query, check
the account filter belongs to the caller (404 otherwise), call one selector.
`?format=csv` answers the report's flat rows as text/csv."""

import csv
import io

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.spreadsheets import spreadsheet_safe
from ledger.books.selectors import account_get
from ledger.reports import selectors
from ledger.reports import serializers as s


class CSVRenderer(BaseRenderer):
    """Renders `csv_rows` (a list of flat dicts) the view attached; errors as code,detail,attr."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        rows = getattr((renderer_context or {}).get("response"), "csv_rows", None)
        if rows is None:
            rows = (data or {}).get("errors", []) if isinstance(data, dict) else []
        out = io.StringIO()
        if rows:
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            # Names (merchants, accounts) are the user's text: never a formula in a spreadsheet.
            writer.writerows(
                {key: spreadsheet_safe(value) if isinstance(value, str) else value for key, value in row.items()}
                for row in rows
            )
        return out.getvalue().encode()


CSV_RESPONSE = OpenApiResponse(OpenApiTypes.STR, description="With format=csv: the report's rows as text/csv.")


class ReportView(APIView):
    """A report endpoint: JSON or CSV, a validated query whose account filters are the caller's."""

    renderer_classes = [JSONRenderer, CSVRenderer]
    query_serializer = s.ReportQuerySerializer

    def query(self, request) -> dict:
        serializer = self.query_serializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = dict(serializer.validated_data)
        query.pop("format", None)
        for account_id in query.get("account", []):
            account_get(user=request.user, account_id=account_id)  # another user's account: 404
        query["accounts"] = query.pop("account", None)
        return query

    def answer(self, data: dict, output, csv_rows: list[dict]) -> Response:
        response = Response(output(data).data)
        response.csv_rows = csv_rows
        return response


def _unconverted_rows(data):
    return [{"period": "", "key": f"unconverted {u['currency']}", "amount": u["amount"]} for u in data["unconverted"]]


class SpendingReportView(ReportView):
    query_serializer = s.SpendingQuerySerializer

    @extend_schema(
        parameters=[s.SpendingQuerySerializer],
        responses={200: s.SpendingReportSerializer},
        description="Spending per period and group in the base currency: transfers, adjustments, deleted rows "
        "and Income excluded; refunds lower their group. Rows without an amount in the base currency are "
        "listed in `unconverted`.",
    )
    def get(self, request):
        data = selectors.spending_report(user=request.user, **self.query(request))
        rows = [
            {"period": p["period"], "key": g["key"], "amount": g["amount"], "count": g["count"]}
            for p in data["periods"]
            for g in p["groups"]
        ]
        return self.answer(data, s.SpendingReportSerializer, rows)


class CashflowReportView(ReportView):
    @extend_schema(
        parameters=[s.ReportQuerySerializer],
        responses={200: s.CashflowReportSerializer},
        description="Per period: income (money in under Income), spending (everything else, net of refunds), "
        "net and savings rate (net/income in %, null without income), in the base currency.",
    )
    def get(self, request):
        data = selectors.cashflow_report(user=request.user, **self.query(request))
        return self.answer(data, s.CashflowReportSerializer, data["periods"])


class TrendsReportView(ReportView):
    query_serializer = s.TrendsQuerySerializer

    @extend_schema(
        parameters=[s.TrendsQuerySerializer],
        responses={200: s.TrendsReportSerializer},
        description="The categories and merchants whose spending moved most in the period that contains "
        "`until`, against the previous period and the average of the three before it.",
    )
    def get(self, request):
        query = self.query(request)
        query.pop("since")
        data = selectors.trends_report(user=request.user, **query)
        rows = [{"dimension": d[:-1], **r} for d in ("categories", "merchants") for r in data[d]]
        return self.answer(data, s.TrendsReportSerializer, rows)
