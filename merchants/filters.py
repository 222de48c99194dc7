import django_filters
from django.db.models import Q

from config.filtersets import StaticFilterSet
from merchants.categories import Category
from merchants.models import Merchant


class MerchantFilterSet(StaticFilterSet):
    category = django_filters.ChoiceFilter(choices=Category.choices)
    country = django_filters.CharFilter(method="filter_country")
    name = django_filters.CharFilter(method="filter_name", help_text="Case-insensitive substring of the name.")

    class Meta:
        model = Merchant
        fields = ["category", "country", "name"]

    def filter_country(self, queryset, name, value):
        return queryset.filter(country=value.strip().upper())

    def filter_name(self, queryset, name, value):
        return queryset.filter(Q(canonical_name__icontains=value.strip()))
