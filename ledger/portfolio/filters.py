import django_filters
from django.utils import timezone

from ledger.models import PortfolioHolding
from ledger.portfolio import services as portfolio


class PortfolioHoldingFilterSet(django_filters.FilterSet):
    asset_type = django_filters.ChoiceFilter(choices=PortfolioHolding.AssetType.choices)
    currency = django_filters.CharFilter(method="filter_currency", help_text="ISO 4217 code.")
    stale = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_stale",
        help_text="true: only holdings never valued or valued over 24 hours ago; false: the others.",
    )

    class Meta:
        model = PortfolioHolding
        fields = []

    def filter_currency(self, queryset, name, value):
        return queryset.filter(currency=value.strip().upper())

    def filter_stale(self, queryset, name, value):
        rule = portfolio.stale_q(now=timezone.now())
        return queryset.filter(rule) if value == "true" else queryset.exclude(rule)
