import django_filters

from budgets.models import Budget
from budgets.selectors import STATUSES
from config.fields import StrictBooleanFilter
from config.filtersets import StaticFilterSet
from merchants.categories import Category


class BudgetFilterSet(StaticFilterSet):
    category = django_filters.ChoiceFilter(choices=Category.choices)
    status = django_filters.ChoiceFilter(choices=[(s, s) for s in STATUSES])
    auto_renew = StrictBooleanFilter()

    class Meta:
        model = Budget
        fields = ["category", "status", "auto_renew"]
