"""Shapes only: field validation here, rules in ledger.books.services."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from config import serializers
from config.fields import AsciiDecimalField, BoundedDateField
from ledger.books.selectors import INTERVALS, account_balances_base, balance_of
from ledger.models import Account, Transfer, TransferSuggestion

MONEY = {"max_digits": 12, "decimal_places": 2}
# Balances and totals are sums of amounts: wider than one amount.
SUM = {"max_digits": 20, "decimal_places": 2}


class AccountOutputSerializer(serializers.ModelSerializer):
    classification = serializers.CharField(help_text="asset or liability, from the kind.")
    balance = serializers.SerializerMethodField(help_text="opening_balance − Σ amount of live rows.")
    balance_base = serializers.SerializerMethodField(
        help_text="The balance in your base currency at today's ECB rate (or up to 7 days before); "
        "null without a rate (never converted at 1)."
    )
    closed = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "id",
            "name",
            "kind",
            "classification",
            "currency",
            "institution",
            "number_mask",
            "iban",
            "opening_balance",
            "opening_date",
            "on_budget",
            "include_in_net_worth",
            "is_default",
            "closed",
            "closed_at",
            "balance",
            "balance_base",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_balance(self, account) -> str:
        return f"{balance_of(account):.2f}"

    def get_balance_base(self, account) -> str | None:
        converted = self.context.get("balances_base")
        if converted is None:
            request = self.context.get("request")
            user = request.user if request is not None else account.user
            converted = account_balances_base(user=user, accounts=[account])
        value = converted.get(account.id)
        return None if value is None else f"{value:.2f}"

    def get_closed(self, account) -> bool:
        return account.closed_at is not None


class AccountInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=Account.Kind.choices, default=Account.Kind.CHECKING)
    currency = serializers.RegexField(r"^[A-Za-z]{3}\Z", help_text="ISO 4217.")
    institution = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    number_mask = serializers.RegexField(
        r"^[0-9]{4}\Z", required=False, allow_blank=True, default="", help_text="Last 4 digits."
    )
    iban = serializers.CharField(max_length=42, required=False, allow_blank=True, default="", help_text="Validated.")
    opening_balance = AsciiDecimalField(**MONEY, default=0)
    opening_date = BoundedDateField(required=False, allow_null=True, default=None)
    on_budget = serializers.BooleanField(default=True)
    include_in_net_worth = serializers.BooleanField(default=True)
    is_default = serializers.BooleanField(default=False)


class AccountUpdateInputSerializer(AccountInputSerializer):
    closed = serializers.BooleanField(
        required=False,
        help_text="true closes the account (like DELETE on an account with rows: a non-zero balance needs "
        "force), false reopens it.",
    )
    force = serializers.BooleanField(required=False, help_text="With closed=true: close even with a non-zero balance.")


class AccountDeleteQuerySerializer(serializers.Serializer):
    force = serializers.BooleanField(default=False, help_text="Close even with a non-zero balance.")


class BalanceQuerySerializer(serializers.Serializer):
    since = BoundedDateField(required=False)
    until = BoundedDateField(required=False)
    interval = serializers.ChoiceField(choices=INTERVALS, default="month")

    MAX_PERIODS = {"day": 3660, "week": 1000, "month": 600}

    def validate(self, data):
        today = datetime.date.today()
        data.setdefault("until", today)
        data.setdefault("since", data["until"] - datetime.timedelta(days=365))
        if data["since"] > data["until"]:
            raise serializers.ValidationError({"since": "since must not be after until."}, code="invalid_range")
        days = (data["until"] - data["since"]).days
        span = {"day": days, "week": days // 7, "month": days // 30}[data["interval"]]
        if span > self.MAX_PERIODS[data["interval"]]:
            raise serializers.ValidationError(
                {"since": f"At most {self.MAX_PERIODS[data['interval']]} periods per request."}, code="too_long"
            )
        return data


class BalancePointSerializer(serializers.Serializer):
    period = BoundedDateField(help_text="The period's first day.")
    balance = AsciiDecimalField(**SUM, help_text="At the period's end.")
    money_in = AsciiDecimalField(**SUM)
    money_out = AsciiDecimalField(**SUM)


class BalanceSeriesSerializer(serializers.Serializer):
    account = serializers.UUIDField()
    currency = serializers.CharField()
    interval = serializers.ChoiceField(choices=INTERVALS)
    results = BalancePointSerializer(many=True)


class ReconcileInputSerializer(serializers.Serializer):
    date = BoundedDateField(help_text="The statement's closing date.")
    balance = AsciiDecimalField(**MONEY, help_text="The statement's balance (owed on a card: negative).")


class ReconcileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    date = BoundedDateField()
    statement_balance = AsciiDecimalField(**MONEY)
    balance_before = AsciiDecimalField(**SUM, help_text="Tally's balance at that date before adjusting.")
    difference = AsciiDecimalField(**SUM, help_text="statement_balance − balance_before.")
    adjustment_id = serializers.UUIDField(allow_null=True)
    reconciled_count = serializers.IntegerField()


class ReconcileUndoOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    date = BoundedDateField()
    unreconciled_count = serializers.IntegerField()
    adjustment_id = serializers.UUIDField(allow_null=True)


class LegSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    account = serializers.UUIDField(source="account_id")
    account_name = serializers.CharField(source="account.name")
    amount = AsciiDecimalField(**MONEY)
    currency = serializers.CharField()
    date = BoundedDateField()
    merchant_raw = serializers.CharField()


class TransferOutputSerializer(serializers.ModelSerializer):
    out_leg = LegSerializer()
    in_leg = LegSerializer()
    implied_rate = serializers.SerializerMethodField(
        help_text="Across currencies: units of the in-leg's currency per unit of the out-leg's "
        "(|in amount| / |out amount|, 6 places), what the bank actually applied; null within one currency."
    )

    class Meta:
        model = Transfer
        fields = ["id", "out_leg", "in_leg", "implied_rate", "created_by", "created_at"]
        read_only_fields = fields

    def get_implied_rate(self, transfer) -> str | None:
        out_leg, in_leg = transfer.out_leg, transfer.in_leg
        if out_leg.currency == in_leg.currency or not out_leg.amount:
            return None
        return f"{(abs(in_leg.amount) / abs(out_leg.amount)).quantize(Decimal('0.000001'), ROUND_HALF_UP)}"


class TransferInputSerializer(serializers.Serializer):
    from_account = serializers.UUIDField()
    to_account = serializers.UUIDField()
    amount = AsciiDecimalField(**MONEY, help_text="Leaves from_account (positive).")
    to_amount = AsciiDecimalField(
        **MONEY, required=False, help_text="Arrives in to_account, in its currency: required across currencies."
    )
    date = BoundedDateField()
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class TransferMatchInputSerializer(serializers.Serializer):
    out_id = serializers.UUIDField(help_text="The row money left (positive amount).")
    in_id = serializers.UUIDField(help_text="The row money arrived in (negative amount).")


class TransferSuggestionOutputSerializer(serializers.ModelSerializer):
    out_leg = LegSerializer()
    in_leg = LegSerializer()

    class Meta:
        model = TransferSuggestion
        fields = ["id", "out_leg", "in_leg", "date_diff", "status", "created_at"]
        read_only_fields = fields
