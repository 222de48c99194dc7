"""Report query parameters (validated, bounded) and the report shapes for OpenAPI."""

import datetime

from django.utils import timezone

from config import serializers
from config.fields import AsciiDecimalField, BoundedDateField, RepeatedQueryParamField
from ledger.currency.serializers import UnconvertedSerializer
from ledger.reports.selectors import INTERVALS, SPENDING_GROUPS

MAX_RANGE_DAYS = 3653  # ten years
MAX_GROUPS_LIMIT = 1000


def _months_back(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


class ReportQuerySerializer(serializers.Serializer):
    since = BoundedDateField(required=False, help_text="Default: the 1st of the month 11 months ago.")
    until = BoundedDateField(required=False, help_text="Default: today. At most ten years after since.")
    interval = serializers.ChoiceField(choices=INTERVALS, default="month")
    account = RepeatedQueryParamField(
        child=serializers.UUIDField(), required=False, max_length=50, help_text="Only these accounts (repeatable)."
    )
    format = serializers.ChoiceField(choices=["json", "csv"], required=False, help_text="csv answers text/csv.")

    def validate(self, attrs):
        until = attrs.get("until") or timezone.localdate()
        since = attrs.get("since") or _months_back(until, 11)
        if since > until:
            raise serializers.ValidationError({"since": "since must not be after until."})
        if (until - since).days > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"until": "The range may span at most ten years."})
        attrs.update(since=since, until=until)
        return attrs


class SpendingQuerySerializer(ReportQuerySerializer):
    group_by = serializers.ChoiceField(choices=list(SPENDING_GROUPS), default="category")
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_GROUPS_LIMIT,
        help_text="At most this many groups per period (the largest); the rest are summed into the period's "
        "`other`. Default: every group (a year of weeks by merchant can be tens of thousands).",
    )


class TrendsQuerySerializer(ReportQuerySerializer):
    pass


class _ReportBase(serializers.Serializer):
    currency = serializers.CharField(help_text="The user's base currency; every amount is in it.")
    interval = serializers.CharField()
    unconverted = UnconvertedSerializer(many=True, help_text="Rows left out of the totals: no amount in base.")


class SpendingGroupSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    amount = AsciiDecimalField(max_digits=20, decimal_places=2)
    count = serializers.IntegerField()


class SpendingOtherSerializer(serializers.Serializer):
    amount = AsciiDecimalField(max_digits=20, decimal_places=2)
    count = serializers.IntegerField(help_text="Rows (split lines) in the groups summed here.")
    groups = serializers.IntegerField(help_text="How many groups were summed here.")


class SpendingPeriodSerializer(serializers.Serializer):
    period = BoundedDateField()
    total = AsciiDecimalField(max_digits=20, decimal_places=2, help_text="Every group's, `other` included.")
    groups = SpendingGroupSerializer(many=True, help_text="Largest first, then by name (no name last).")
    other = SpendingOtherSerializer(
        required=False,
        allow_null=True,
        help_text="Only with `limit`: the groups after the first `limit`, summed (null when there were no more).",
    )


class SpendingReportSerializer(_ReportBase):
    group_by = serializers.CharField()
    since = BoundedDateField()
    until = BoundedDateField()
    periods = SpendingPeriodSerializer(many=True)


class CashflowPeriodSerializer(serializers.Serializer):
    period = BoundedDateField()
    income = AsciiDecimalField(max_digits=20, decimal_places=2)
    spending = AsciiDecimalField(max_digits=20, decimal_places=2)
    net = AsciiDecimalField(max_digits=20, decimal_places=2)
    savings_rate = AsciiDecimalField(max_digits=8, decimal_places=1, allow_null=True, help_text="net/income %")


class CashflowReportSerializer(_ReportBase):
    since = BoundedDateField()
    until = BoundedDateField()
    periods = CashflowPeriodSerializer(many=True)


class TrendRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    amount = AsciiDecimalField(max_digits=20, decimal_places=2)
    previous = AsciiDecimalField(max_digits=20, decimal_places=2)
    average_3 = AsciiDecimalField(max_digits=20, decimal_places=2)
    change = AsciiDecimalField(max_digits=20, decimal_places=2)
    change_vs_average = AsciiDecimalField(max_digits=20, decimal_places=2)


class TrendsReportSerializer(_ReportBase):
    period = BoundedDateField()
    previous_period = BoundedDateField()
    categories = TrendRowSerializer(many=True)
    merchants = TrendRowSerializer(many=True)


class NetWorthQuerySerializer(ReportQuerySerializer):
    per_account = serializers.BooleanField(
        default=False, help_text="Also each account's balance per period (own currency and base)."
    )


class NetWorthTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    assets = AsciiDecimalField(max_digits=20, decimal_places=2)
    liabilities = AsciiDecimalField(max_digits=20, decimal_places=2, help_text="Owed, positive.")
    net_worth = AsciiDecimalField(max_digits=20, decimal_places=2)


class NetWorthAccountSerializer(serializers.Serializer):
    account = serializers.UUIDField()
    name = serializers.CharField()
    kind = serializers.CharField()
    currency = serializers.CharField()
    balance = AsciiDecimalField(max_digits=20, decimal_places=2, help_text="At the period's end, own currency.")
    balance_base = AsciiDecimalField(
        max_digits=20, decimal_places=2, allow_null=True, help_text="In the base currency; null without a rate."
    )


class NetWorthPointSerializer(serializers.Serializer):
    period = BoundedDateField()
    currencies = NetWorthTotalsSerializer(many=True, help_text="Per account currency, unconverted.")
    base = NetWorthTotalsSerializer(
        help_text="All currencies with a rate at the period's end, converted to your base currency and added."
    )
    unconverted = UnconvertedSerializer(
        many=True, help_text="Currencies left out of base (no rate): count is accounts, amount their net worth."
    )
    accounts = NetWorthAccountSerializer(many=True, required=False, help_text="Only with per_account=true.")


class NetWorthReportSerializer(serializers.Serializer):
    interval = serializers.CharField()
    since = BoundedDateField()
    until = BoundedDateField()
    results = NetWorthPointSerializer(many=True)
