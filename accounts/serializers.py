import re

from drf_spectacular.utils import extend_schema_field

from accounts.models import Session, User
from config import serializers
from config.currencies import ISO_4217

CURRENCY_RE = re.compile(r"^[A-Z]{3}\Z")


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, trim_whitespace=False)


class RefreshInputSerializer(serializers.Serializer):
    refresh = serializers.CharField()


class NotificationPreferencesSerializer(serializers.Serializer):
    email = serializers.BooleanField(required=False)
    push = serializers.BooleanField(required=False)
    weekly_summary = serializers.BooleanField(required=False)
    monthly_report = serializers.BooleanField(required=False)


class PreferencesSerializer(serializers.Serializer):
    currency = serializers.RegexField(CURRENCY_RE, required=False, error_messages={"invalid": "Use an ISO 4217 code."})
    theme = serializers.ChoiceField(choices=["light", "dark", "system"], required=False)
    notifications = NotificationPreferencesSerializer(required=False)


class BaseCurrencyBudgetsSerializer(serializers.Serializer):
    converted = serializers.IntegerField(help_text="Budgets whose amount was converted (closed periods too).")
    kept = serializers.IntegerField(
        help_text="Budgets kept as they were: no rate between the two currencies on the change date or "
        "within 7 days before it. Their amounts are now read in the new base currency; edit them."
    )
    rate = serializers.DecimalField(
        max_digits=30, decimal_places=10, allow_null=True, coerce_to_string=True, help_text="Units of `to` per `from`."
    )
    rate_date = serializers.DateField(allow_null=True)


class BaseCurrencyChangeSerializer(serializers.Serializer):
    from_currency = serializers.CharField(source="from")
    to_currency = serializers.CharField(source="to")
    budgets = BaseCurrencyBudgetsSerializer(required=False)


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "pending_email",
            "full_name",
            "phone",
            "preferences",
            "wallet_addresses",
            "base_currency",
            "base_currency_recomputing",
            "base_currency_change",
            "is_verified",
            "is_staff",
            "created_at",
        ]
        read_only_fields = fields

    base_currency_recomputing = serializers.SerializerMethodField(
        help_text="True while converted amounts are being recomputed after a base-currency change."
    )

    def get_base_currency_recomputing(self, user) -> bool:
        return user.base_currency_recompute_started_at is not None

    base_currency_change = serializers.SerializerMethodField(
        help_text="Only in the answer to a base-currency change (else null): from and to, and what was "
        "converted with it (budgets: their amounts at the change date's rate)."
    )

    @extend_schema_field(BaseCurrencyChangeSerializer(allow_null=True))
    def get_base_currency_change(self, user):
        change = getattr(user, "base_currency_change", None)
        return BaseCurrencyChangeSerializer(change).data if change else None


class UserUpdateInputSerializer(serializers.Serializer):
    email = serializers.EmailField(
        max_length=254,
        required=False,
        help_text="A new address stays pending (the old one keeps working) until the link mailed to it is opened.",
    )
    current_password = serializers.CharField(
        max_length=128,
        required=False,
        write_only=True,
        trim_whitespace=False,
        help_text="Required to change the e-mail address.",
    )
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    preferences = PreferencesSerializer(required=False)
    wallet_addresses = serializers.ListField(child=serializers.CharField(max_length=128), max_length=20, required=False)
    base_currency = serializers.CharField(
        max_length=3, required=False, help_text="ISO 4217 code; a change recomputes converted amounts (202)."
    )

    def validate_base_currency(self, value):
        code = value.strip().upper()
        if code not in ISO_4217:
            raise serializers.ValidationError("Not an ISO 4217 currency code.", code="unknown_currency")
        return code


class TokenPairOutputSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    session_id = serializers.UUIDField()
    user = UserOutputSerializer()


class PasswordChangeInputSerializer(serializers.Serializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)


class DetailOutputSerializer(serializers.Serializer):
    detail = serializers.CharField()


class SessionOutputSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = ["id", "user_agent", "ip", "created_at", "last_used_at", "expires_at", "current"]
        read_only_fields = fields

    def get_current(self, session) -> bool:
        return session.id == self.context.get("current_session_id")
