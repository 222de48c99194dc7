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
