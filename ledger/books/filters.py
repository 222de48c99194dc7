import django_filters

from config.fields import StrictBooleanFilter
from config.filtersets import StaticFilterSet
from ledger.models import Account


class AccountFilterSet(StaticFilterSet):
    kind = django_filters.ChoiceFilter(choices=Account.Kind.choices)
    currency = django_filters.CharFilter(method="filter_currency", help_text="ISO 4217 code.")
    closed = StrictBooleanFilter(field_name="closed_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Account
        fields = []

    def filter_currency(self, queryset, name, value):
        return queryset.filter(currency=value.upper())
