from decimal import Decimal

from budgets.models import Budget, BudgetPeriod
from budgets.selectors import STATUSES, percent
from config import serializers
from config.fields import AsciiDecimalField, BoundedDateField, RepeatedQueryParamField
from ledger.currency.serializers import UnconvertedSerializer
from merchants.fields import CategoryField


def Money(**kwargs):  # noqa: N802 - reads like a field class
    """A figure out: a sum of many amounts has more digits than one amount."""
    return AsciiDecimalField(max_digits=20, decimal_places=2, **kwargs)


def MoneyIn(**kwargs):  # noqa: N802
    """An amount in: what a budget can store."""
    return AsciiDecimalField(max_digits=12, decimal_places=2, **kwargs)


def Percentage(**kwargs):  # noqa: N802
    return AsciiDecimalField(max_digits=12, decimal_places=1, coerce_to_string=False, **kwargs)


class BudgetInputSerializer(serializers.Serializer):
    category = CategoryField()
    amount = MoneyIn(min_value=Decimal("0.01"))
    start_date = BoundedDateField(required=False)
    end_date = BoundedDateField(required=False)
    auto_renew = serializers.BooleanField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and end <= start:
            raise serializers.ValidationError({"end_date": "Must be after start_date."})
        return attrs


class BudgetUpdateInputSerializer(BudgetInputSerializer):
    category = CategoryField(required=False)
    amount = MoneyIn(min_value=Decimal("0.01"), required=False)


class BudgetOutputSerializer(serializers.ModelSerializer):
    amount = Money()
    spent = Money()
    remaining = Money()
    percentage = Percentage()
    status = serializers.ChoiceField(choices=STATUSES)
    suggested_amount = Money(allow_null=True, help_text="90-day monthly average + 10 %, rounded; null without history.")
    unconverted_count = serializers.IntegerField(
        help_text="Rows of this period left out of spent: no amount in the base currency (no rate yet)."
    )

    class Meta:
        model = Budget
        fields = [
            "id",
            "category",
            "amount",
            "start_date",
            "end_date",
            "auto_renew",
            "spent",
            "remaining",
            "percentage",
            "status",
            "suggested_amount",
            "unconverted_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


_DATETIME = serializers.DateTimeField()


def _money(value) -> str:
    return f"{value:.2f}"


def budget_data(budget: dict) -> dict:
    """A budgets.selectors.budget_overview dict -> what BudgetOutputSerializer
    renders for the same budget (the list's hot path: no serializer
    instances, ~14 fields a row through DRF's field machinery)."""
    suggested = budget["suggested_amount"]
    return {
        "id": str(budget["id"]),
        "category": budget["category"],
        "amount": _money(budget["amount"]),
        "start_date": budget["start_date"].isoformat(),
        "end_date": budget["end_date"].isoformat(),
        "auto_renew": budget["auto_renew"],
        "spent": _money(budget["spent"]),
        "remaining": _money(budget["remaining"]),
        "percentage": budget["percentage"],
        "status": budget["status"],
        "suggested_amount": _money(suggested) if suggested is not None else None,
        "unconverted_count": budget["unconverted_count"],
        "created_at": _DATETIME.to_representation(budget["created_at"]),
        "updated_at": _DATETIME.to_representation(budget["updated_at"]),
    }


class BudgetRenewInputSerializer(serializers.Serializer):
    catch_up = serializers.BooleanField(default=False)


class BudgetRenewOutputSerializer(BudgetOutputSerializer):
    periods_renewed = serializers.IntegerField(help_text="Periods this request closed (at most 36).")
    caught_up = serializers.BooleanField(
        help_text="false: the budget is still behind after 36 periods; renew again with catch_up=true."
    )

    class Meta(BudgetOutputSerializer.Meta):
        fields = [*BudgetOutputSerializer.Meta.fields, "periods_renewed", "caught_up"]
        read_only_fields = fields


class BudgetPeriodOutputSerializer(serializers.ModelSerializer):
    amount = Money()
    spent = Money()
    remaining = serializers.SerializerMethodField()
    percentage = serializers.SerializerMethodField()

    class Meta:
        model = BudgetPeriod
        fields = [
            "id",
            "category",
            "start_date",
            "end_date",
            "amount",
            "spent",
            "remaining",
            "percentage",
            "created_at",
        ]
        read_only_fields = fields

    def get_remaining(self, period) -> str:
        return f"{period.amount - period.spent:.2f}"

    def get_percentage(self, period) -> float:
        return float(percent(period.spent, period.amount))


class StatusRowSerializer(serializers.Serializer):
    category = serializers.CharField()
    budget = Money()
    spent = Money()
    percentage = Percentage()


class OverBudgetRowSerializer(StatusRowSerializer):
    overage = Money()


class AtRiskRowSerializer(StatusRowSerializer):
    remaining = Money()


def _currency_field():
    return serializers.CharField(help_text="The user's base currency: every amount here is in it.")


class BudgetStatusOutputSerializer(serializers.Serializer):
    currency = _currency_field()
    unconverted = UnconvertedSerializer(many=True, help_text="Rows left out of the totals: no rate yet.")
    budget_count = serializers.IntegerField()
    total_budgeted = Money()
    total_spent = Money()
    total_remaining = Money()
    overall_percentage = Percentage(allow_null=True)
    over_budget_count = serializers.IntegerField()
    at_risk_count = serializers.IntegerField()
    healthy_count = serializers.IntegerField()
    over_budget = OverBudgetRowSerializer(many=True)
    at_risk = AtRiskRowSerializer(many=True)


class ComparisonQuerySerializer(serializers.Serializer):
    month = BoundedDateField(input_formats=["%Y-%m"], required=False, help_text="YYYY-MM; default this month.")


class ComparisonRowSerializer(serializers.Serializer):
    category = serializers.CharField()
    current = Money()
    previous = Money()
    change = Money()
    change_percentage = Percentage(allow_null=True, help_text="null when the previous month had no spending.")


class BudgetComparisonOutputSerializer(serializers.Serializer):
    currency = _currency_field()
    unconverted = UnconvertedSerializer(many=True, help_text="Rows of both months left out: no rate yet.")
    month = serializers.CharField()
    previous_month = serializers.CharField()
    categories = ComparisonRowSerializer(many=True)
    total_current = Money()
    total_previous = Money()
    total_change = Money()
    total_change_percentage = Percentage(allow_null=True)


class SuggestionOutputSerializer(serializers.Serializer):
    category = serializers.CharField()
    monthly_average = Money(allow_null=True)
    suggested_amount = Money(allow_null=True, help_text="null without net spending in the last 90 days.")
    months_of_history = serializers.IntegerField()
    transaction_count = serializers.IntegerField()
    is_minimum = serializers.BooleanField(help_text="The floor for tiny amounts was applied.")
    is_implausible = serializers.BooleanField(
        help_text="Unusually large, or driven by one outlier purchase: check before using."
    )
    current_budget = Money(allow_null=True)


class BudgetSuggestionsOutputSerializer(serializers.Serializer):
    currency = _currency_field()
    unconverted = UnconvertedSerializer(many=True, help_text="Rows of the 90 days left out: no rate yet.")
    results = SuggestionOutputSerializer(many=True)


class BudgetReportQuerySerializer(serializers.Serializer):
    months = serializers.IntegerField(
        min_value=1, max_value=120, default=12, help_text="Calendar months back, this one included (at most 120)."
    )
    account = RepeatedQueryParamField(
        child=serializers.UUIDField(), required=False, max_length=50, help_text="Only these accounts (repeatable)."
    )
    format = serializers.ChoiceField(choices=["json", "csv"], required=False, help_text="csv answers text/csv.")


class BudgetReportPeriodSerializer(serializers.Serializer):
    start_date = BoundedDateField()
    end_date = BoundedDateField()
    is_current = serializers.BooleanField(help_text="The budget's running period (the rest are closed).")
    budget = Money()
    spent = Money(help_text="Recomputed from the ledger: later edits and splits show.")
    remaining = Money()
    percentage = Percentage(allow_null=True)
    status = serializers.ChoiceField(choices=STATUSES)


class BudgetReportBudgetSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    category = serializers.CharField()
    periods = BudgetReportPeriodSerializer(many=True, help_text="Oldest first.")


class BudgetReportTotalsSerializer(serializers.Serializer):
    budgeted = Money()
    spent = Money()
    percentage = Percentage(allow_null=True)
    periods_over = serializers.IntegerField()


class BudgetReportSerializer(serializers.Serializer):
    currency = _currency_field()
    months = serializers.IntegerField()
    since = BoundedDateField()
    until = BoundedDateField()
    budgets = BudgetReportBudgetSerializer(many=True)
    totals = BudgetReportTotalsSerializer()
    unconverted = UnconvertedSerializer(many=True, help_text="Rows of the periods left out of spent: no rate yet.")
