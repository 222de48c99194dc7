import datetime
from decimal import Decimal

import factory

from ledger.books.guards import account_default
from ledger.models import Account, PortfolioHolding, Transaction
from merchants.categories import Category
from merchants.services import normalize_merchant_text
from tests.accounts.factories import UserFactory


class TransactionFactory(factory.django.DjangoModelFactory):
    """A row written straight to the table (no creation service): for
    arranging data. Tests of the creation path go through the service/API."""

    class Meta:
        model = Transaction

    user = factory.SubFactory(UserFactory)
    amount = Decimal("12.50")
    currency = "USD"
    # The user's default account in the row's currency unless one is given.
    account = factory.LazyAttribute(lambda o: account_default(user=o.user, currency=o.currency))
    date = factory.LazyFunction(datetime.date.today)
    merchant_raw = factory.Sequence(lambda n: f"Shop {n}")
    merchant_normalized = factory.LazyAttribute(lambda o: normalize_merchant_text(o.merchant_raw))
    category = Category.GROCERIES
    source = Transaction.Source.MANUAL


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Account {n}")
    kind = Account.Kind.CHECKING
    currency = "USD"


class PortfolioHoldingFactory(factory.django.DjangoModelFactory):
    """A holding written straight to the table (already normalised)."""

    class Meta:
        model = PortfolioHolding

    user = factory.SubFactory(UserFactory)
    asset_type = PortfolioHolding.AssetType.STOCK
    identifier = factory.Sequence(lambda n: f"T{n}")
    currency = "USD"
    units = Decimal("10")
    cost_basis = Decimal("1000.00")
