import factory

from merchants.categories import Category
from merchants.models import Merchant
from merchants.services import normalize_merchant_text


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    canonical_name = factory.Sequence(lambda n: f"Merchant {n}")
    normalized_name = factory.LazyAttribute(lambda o: normalize_merchant_text(o.canonical_name))
    category = Category.SHOPPING
    country = "US"
    aliases = factory.LazyFunction(list)
    tags = factory.LazyFunction(list)


def merchant_with_aliases(name, aliases=(), category=Category.SHOPPING):
    """A merchant whose alias keys are filled the way the services fill them."""
    return MerchantFactory(
        canonical_name=name,
        aliases=list(aliases),
        alias_keys=sorted({normalize_merchant_text(alias) for alias in aliases}),
        category=category,
    )
