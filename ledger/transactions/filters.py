import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from drf_spectacular.utils import extend_schema_field

from config.errors import NotFound
from config.fields import AsciiNumberFilter, BoundedDateFilter, StrictBooleanFilter
from config.filtersets import StaticFilterSet
from ledger.models import Account, Attachment, Transaction
from merchants.categories import Category


class TransactionOrderingFilter(django_filters.OrderingFilter):
    """date or amount, either direction; id breaks ties the same way so pages
    never repeat or skip rows."""

    def filter(self, qs, value):
        if not value:
            return qs
        field = self.get_ordering_value(value[0])
        tie = "-id" if field.startswith("-") else "id"
        return qs.order_by(field, tie)


class MultipleValueField(forms.Field):
    """Every value of a repeated query parameter (`tag=a&tag=b`)."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        if not value:
            return []
        values = [value] if isinstance(value, str) else list(value)
        if any("\x00" in str(v) for v in values):
            # As every text field says it (forms.CharField's validator); PostgreSQL refuses NUL in text.
            raise forms.ValidationError("Null characters are not allowed.", code="null_characters_not_allowed")
        cleaned = [" ".join(str(v).split()).lower() for v in values if str(v).strip()]
        if len(cleaned) > 20:
            raise forms.ValidationError("At most 20 tags.", code="too_many")
        return cleaned


@extend_schema_field({"type": "array", "items": {"type": "string", "pattern": r"^[^\u0000]*$"}})
class TagFilter(django_filters.Filter):
    field_class = MultipleValueField

    def filter(self, qs, value):
        if not value:
            return qs
        mode = getattr(self.parent, "tag_mode_value", "any")
        through = Transaction.tags.through.objects.annotate(_lname=Lower("tag__name")).filter(
            transaction_id=OuterRef("pk")
        )
        if mode == "all":
            for name in value:
                qs = qs.filter(Exists(through.filter(_lname=name)))
            return qs
        return qs.filter(Exists(through.filter(_lname__in=value)))


class TransactionFilterSet(StaticFilterSet):
    since = BoundedDateFilter(field_name="date", lookup_expr="gte", help_text="On or after (YYYY-MM-DD).")
    until = BoundedDateFilter(field_name="date", lookup_expr="lte", help_text="On or before (YYYY-MM-DD).")
    category = django_filters.ChoiceFilter(choices=Category.choices)
    source = django_filters.ChoiceFilter(choices=Transaction.Source.choices)
    min_amount = AsciiNumberFilter(field_name="amount", lookup_expr="gte")
    max_amount = AsciiNumberFilter(field_name="amount", lookup_expr="lte")
    merchant = django_filters.UUIDFilter(field_name="merchant_id", help_text="Merchant id.")
    account = django_filters.UUIDFilter(method="filter_account", help_text="Account id (another user's is a 404).")
    kind = django_filters.ChoiceFilter(choices=Transaction.Kind.choices, help_text="standard, transfer or adjustment.")
    q = django_filters.CharFilter(method="filter_q", help_text="Full-text search over merchant and notes.")
    anomalous = django_filters.ChoiceFilter(
        choices=(("true", "true"), ("false", "false")), method="filter_anomalous", help_text="Anomaly score above 0.5."
    )
    has_attachments = StrictBooleanFilter(
        method="filter_has_attachments", help_text="true: with at least one attachment; false: with none."
    )
    tag = TagFilter(help_text="Tag name, repeatable (tag=a&tag=b): rows with any of them, or all with tag_mode=all.")
    tag_mode = django_filters.ChoiceFilter(
        choices=(("any", "any"), ("all", "all")), method="filter_tag_mode", help_text="How several tags combine."
    )
    ordering = TransactionOrderingFilter(
        fields=(("date", "date"), ("amount", "amount")),
        help_text="date, -date (default), amount or -amount.",
    )

    class Meta:
        model = Transaction
        fields = []

    @property
    def tag_mode_value(self):
        return (self.form.cleaned_data.get("tag_mode") or "any") if hasattr(self.form, "cleaned_data") else "any"

    def filter_tag_mode(self, queryset, name, value):
        return queryset  # read by TagFilter

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Same text-search configuration as the generated search_vector column.
        return queryset.filter(search_vector=SearchQuery(value, config="simple", search_type="websearch"))

    def filter_account(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if user is not None and not Account.objects.filter(user=user, id=value).exists():
            raise NotFound("Account not found.")  # someone else's account is a 404, not an empty list
        return queryset.filter(account_id=value)

    def filter_has_attachments(self, queryset, name, value):
        if value is None:
            return queryset
        attached = Exists(Attachment.objects.filter(transaction=OuterRef("pk")))
        return queryset.filter(attached) if value else queryset.exclude(attached)

    def filter_anomalous(self, queryset, name, value):
        condition = Q(anomaly_score__gt=0.5)
        return queryset.filter(condition) if value == "true" else queryset.exclude(condition)
