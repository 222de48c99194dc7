"""Report query parameters (validated, bounded) and the report shapes for OpenAPI."""

import datetime

from django.utils import timezone
from rest_framework import serializers

from ledger.reports.selectors import INTERVALS, SPENDING_GROUPS

MAX_RANGE_DAYS = 3653  # ten years


def _months_back(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + day.month - 1 - months
    return datetime.date(index // 12, index % 12 + 1, 1)


class ReportQuerySerializer(serializers.Serializer):
    since = serializers.DateField(required=False, help_text="Default: the 1st of the month 11 months ago.")
    until = serializers.DateField(required=False, help_text="Default: today. At most ten years after since.")
    interval = serializers.ChoiceField(choices=INTERVALS, default="month")
    account = serializers.ListField(
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


class TrendsQuerySerializer(ReportQuerySerializer):
    pass


class UnconvertedSerializer(serializers.Serializer):
    currency = serializers.CharField()
    count = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class _ReportBase(serializers.Serializer):
    currency = serializers.CharField(help_text="The user's base currency; every amount is in it.")
    interval = serializers.CharField()
    unconverted = UnconvertedSerializer(many=True, help_text="Rows left out of the totals: no amount in base.")


class SpendingGroupSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    count = serializers.IntegerField()


class SpendingPeriodSerializer(serializers.Serializer):
    period = serializers.DateField()
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    groups = SpendingGroupSerializer(many=True)


class SpendingReportSerializer(_ReportBase):
    group_by = serializers.CharField()
    since = serializers.DateField()
    until = serializers.DateField()
    periods = SpendingPeriodSerializer(many=True)


class CashflowPeriodSerializer(serializers.Serializer):
    period = serializers.DateField()
    income = serializers.DecimalField(max_digits=14, decimal_places=2)
    spending = serializers.DecimalField(max_digits=14, decimal_places=2)
    net = serializers.DecimalField(max_digits=14, decimal_places=2)
    savings_rate = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True, help_text="net/income %")


class CashflowReportSerializer(_ReportBase):
    since = serializers.DateField()
    until = serializers.DateField()
    periods = CashflowPeriodSerializer(many=True)


class TrendRowSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    previous = serializers.DecimalField(max_digits=14, decimal_places=2)
    average_3 = serializers.DecimalField(max_digits=14, decimal_places=2)
    change = serializers.DecimalField(max_digits=14, decimal_places=2)
    change_vs_average = serializers.DecimalField(max_digits=14, decimal_places=2)


class TrendsReportSerializer(_ReportBase):
    period = serializers.DateField()
    previous_period = serializers.DateField()
    categories = TrendRowSerializer(many=True)
    merchants = TrendRowSerializer(many=True)
