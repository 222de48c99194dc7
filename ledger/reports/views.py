"""/api/v1/reports/spending, cashflow, trends and net-worth: validate the query, check
the account filter belongs to the caller (404 otherwise), call one selector.
`?format=csv` answers the report's flat rows as text/csv (errors stay JSON)."""

import csv
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.spreadsheets import spreadsheet_safe
from ledger.books.selectors import account_get, net_worth_series
from ledger.reports import selectors
from ledger.reports import serializers as s


def csv_text(rows: list[dict]) -> str:
    """The report's flat rows as CSV (a header from the first row's keys; empty without rows)."""
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        # Names (merchants, accounts) are the user's text: never a formula in a spreadsheet.
        writer.writerows(
            {key: spreadsheet_safe(value) if isinstance(value, str) else value for key, value in row.items()}
            for row in rows
        )
    return out.getvalue()


def report_responses(serializer) -> dict:
    """A report answers JSON, or text/csv with format=csv; errors are always JSON in the error shape."""
    return {
        (200, "application/json"): serializer,
        (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="With format=csv: the rows as text/csv."),
    }


class ReportView(APIView):
    """A report endpoint: JSON or CSV, a validated query whose account filters are the caller's."""

    query_serializer = s.ReportQuerySerializer

    def query(self, request) -> dict:
        serializer = self.query_serializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        query = dict(serializer.validated_data)
        self.as_csv = query.pop("format", None) == "csv"
        for account_id in query.get("account", []):
            account_get(user=request.user, account_id=account_id)  # another user's account: 404
        query["accounts"] = query.pop("account", None)
        return query

    def answer(self, data: dict, output, csv_rows: list[dict]) -> HttpResponse:
        if self.as_csv:
            return HttpResponse(csv_text(csv_rows), content_type="text/csv; charset=utf-8")
        return Response(output(data).data)


def _unconverted_rows(data):
    return [{"period": "", "key": f"unconverted {u['currency']}", "amount": u["amount"]} for u in data["unconverted"]]


class SpendingReportView(ReportView):
    query_serializer = s.SpendingQuerySerializer

    @extend_schema(
        parameters=[s.SpendingQuerySerializer],
        responses=report_responses(s.SpendingReportSerializer),
        description="Spending per period and group in the base currency: transfers, adjustments, deleted rows "
        "and Income excluded; refunds lower their group. Rows without an amount in the base currency are "
        "listed in `unconverted`.",
    )
    def get(self, request):
        query = self.query(request)
        if not self.as_csv:
            # Periods and groups are JSON PostgreSQL built, rendered as they are (no serializer per group).
            return Response(selectors.spending_report_json(user=request.user, **query))
        data = selectors.spending_report(user=request.user, **query)
        rows = []
        for p in data["periods"]:
            rows += [
                {"period": p["period"], "key": g["key"], "amount": g["amount"], "count": g["count"]}
                for g in p["groups"]
            ]
            if p.get("other"):  # with limit: the period's other groups as one row after them
                other = p["other"]
                rows.append({"period": p["period"], "key": f"other {other['groups']} groups", "amount": other["amount"],
                             "count": other["count"]})  # fmt: skip
        return self.answer(data, s.SpendingReportSerializer, rows)


class CashflowReportView(ReportView):
    @extend_schema(
        parameters=[s.ReportQuerySerializer],
        responses=report_responses(s.CashflowReportSerializer),
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
        responses=report_responses(s.TrendsReportSerializer),
        description="The categories and merchants whose spending moved most in the period that contains "
        "`until`, against the previous period and the average of the three before it.",
    )
    def get(self, request):
        query = self.query(request)
        query.pop("since")
        data = selectors.trends_report(user=request.user, **query)
        rows = [{"dimension": d[:-1], **r} for d in ("categories", "merchants") for r in data[d]]
        return self.answer(data, s.TrendsReportSerializer, rows)


class NetWorthReportView(ReportView):
    query_serializer = s.NetWorthQuerySerializer

    @extend_schema(
        parameters=[s.NetWorthQuerySerializer],
        responses=report_responses(s.NetWorthReportSerializer),
        description="Assets, liabilities (owed, positive) and net worth at the end of each period over the "
        "accounts with include_in_net_worth (or exactly the `account`s asked for), per currency and converted to "
        "your base currency at the ECB rate of the period's end (`base`); currencies without a rate are listed "
        "in `unconverted`. per_account=true adds each account's balance; with format=csv the rows are then one "
        "per account and period.",
    )
    def get(self, request):
        query = self.query(request)
        results = net_worth_series(user=request.user, **query)
        data = {"interval": query["interval"], "since": query["since"], "until": query["until"], "results": results}
        if query["per_account"]:
            rows = [{"period": p["period"], **a} for p in results for a in p["accounts"]]
        else:
            rows = [{"period": p["period"], **p["base"]} for p in results]
            rows += [
                {"period": p["period"], "currency": f"unconverted {u['currency']}", "net_worth": u["amount"]}
                for p in results
                for u in p["unconverted"]
            ]
        return self.answer(data, s.NetWorthReportSerializer, rows)
