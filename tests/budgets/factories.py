import datetime
from decimal import Decimal

import factory

from budgets.models import Budget, BudgetPeriod
from merchants.categories import Category
from tests.accounts.factories import UserFactory


class BudgetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Budget

    user = factory.SubFactory(UserFactory)
    category = Category.GROCERIES
    amount = Decimal("100.00")
    start_date = datetime.date(2026, 3, 1)
    end_date = datetime.date(2026, 3, 31)
    auto_renew = True


class BudgetPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetPeriod

    budget = factory.SubFactory(BudgetFactory)
    category = factory.LazyAttribute(lambda o: o.budget.category)
    start_date = datetime.date(2026, 2, 1)
    end_date = datetime.date(2026, 2, 28)
    amount = Decimal("100.00")
    spent = Decimal("50.00")
