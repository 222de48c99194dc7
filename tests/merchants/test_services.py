import datetime
import uuid
from decimal import Decimal

import pytest

from config.exceptions import Conflict, DomainError
from merchants.categories import Category
from merchants.models import Merchant
from merchants.services import (
    match_merchant,
    match_merchants,
    merchant_create,
    merchant_merge,
    normalize_merchant_text,
    title_case_name,
)
from tests.ledger.factories import TransactionFactory
from tests.merchants.factories import MerchantFactory
from tests.merchants.factories import merchant_with_aliases as make

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("AMZN Mktp US*2K3AB12", "amzn mktp us"),
        ("UBER *TRIP", "uber trip"),
        ("starbucks #1234", "starbucks"),
        ("STARBUCKS STORE 01234 SEATTLE WA", "starbucks seattle wa"),
        ("SQ *BLUE BOTTLE COFFEE", "blue bottle coffee"),
        ("PAYPAL *NETFLIX", "netflix"),
        ("POS PURCHASE WALMART 12/03", "walmart"),
        ("McDonald's F12345", "mcdonalds"),
        ("7-Eleven", "7-eleven"),
        ("Booking.com", "booking.com"),
        ("H&M", "h&m"),
        ("", ""),
    ],
)
def test_normalize_strips_card_noise_but_keeps_the_name(raw, expected):
    assert normalize_merchant_text(raw) == expected


@pytest.fixture
def known_merchants():

    return {
        "starbucks": make("Starbucks", ["SBUX", "STARBUCKS COFFEE"], Category.FOOD_DINING),
        "amazon": make("Amazon", ["AMZN MKTP US", "AMZN MKTP", "AMAZON.COM"]),
        "uber": make("Uber", ["UBER *TRIP", "UBER BV"], Category.TRANSPORT),
        "swiggy": make("Swiggy", ["BUNDL TECHNOLOGIES"], Category.FOOD_DINING),
        "wholefoods": make("Whole Foods Market", ["WFM"], Category.GROCERIES),
    }


def test_match_merchant_finds_the_three_statement_examples_and_an_exact_name(known_merchants):
    starbucks = match_merchant("starbucks #1234")
    amazon = match_merchant("AMZN MKTP US")
    uber = match_merchant("UBER *TRIP")
    exact = match_merchant("Swiggy")

    assert (starbucks.merchant, starbucks.method, starbucks.score) == (known_merchants["starbucks"], "exact", 1.0)
    assert (amazon.merchant, amazon.method, amazon.score) == (known_merchants["amazon"], "alias", 0.9)
    assert (uber.merchant, uber.method) == (known_merchants["uber"], "alias")
    assert (exact.merchant, exact.method) == (known_merchants["swiggy"], "exact")


def test_match_merchant_handles_processor_codes_and_trailing_location(known_merchants):
    assert match_merchant("AMZN Mktp US*2K3AB12").merchant == known_merchants["amazon"]
    hit = match_merchant("UBER BV HELP.UBER.COM NL")
    assert (hit.merchant, hit.method) == (known_merchants["uber"], "alias")


def test_match_merchant_is_fuzzy_above_the_cutoff_and_none_below(known_merchants):
    typo = match_merchant("Swigy")
    assert typo.merchant == known_merchants["swiggy"]
    assert typo.method == "fuzzy"
    assert 0.5 <= typo.score < 1.0
    assert match_merchant("Completely Unrelated Shop") is None
    assert match_merchant("##") is None


STATEMENT_TEXTS = [
    "starbucks #1234",
    "STARBUCKS STORE 01234 SEATTLE WA",
    "AMZN Mktp US*2K3AB12",
    "AMAZON.COM",
    "UBER *TRIP",
    "UBER BV HELP.UBER.COM NL",
    "Swiggy",
    "Swigy",
    "WFM 10230 AUSTIN",
    "Whole Foods",
    "Completely Unrelated Shop",
    "##",
]


def test_match_merchants_picks_what_match_merchant_picks_for_each_text(known_merchants):
    one_by_one = {normalize_merchant_text(t): match_merchant(t) for t in STATEMENT_TEXTS if normalize_merchant_text(t)}

    together = match_merchants(STATEMENT_TEXTS)

    assert set(together) == set(one_by_one)
    for normalized, single in one_by_one.items():
        bulk = together[normalized]
        assert (bulk and (bulk.merchant.id, bulk.method, round(bulk.score, 6))) == (
            single and (single.merchant.id, single.method, round(single.score, 6))
        ), normalized
    assert together["uber trip"].merchant == known_merchants["uber"]
    assert together["completely unrelated shop"] is None


def test_match_merchants_is_two_queries_however_many_texts(known_merchants, django_assert_num_queries):
    texts = [f"shop number {word}" for word in ("alpha", "beta", "gamma", "delta")] + STATEMENT_TEXTS
    with django_assert_num_queries(2):
        matches = match_merchants(texts)
    assert matches["swiggy"].merchant == known_merchants["swiggy"]


def test_match_merchant_is_one_query(known_merchants, django_assert_num_queries):
    with django_assert_num_queries(1):
        match_merchant("UBER *TRIP")


def test_title_case_keeps_mixed_case_and_short_acronyms():
    assert title_case_name("  starbucks   coffee ") == "Starbucks Coffee"
    assert title_case_name("McDonald's") == "McDonald's"
    assert title_case_name("eBay") == "eBay"
    assert title_case_name("KFC") == "KFC"
    assert title_case_name("WHOLE FOODS MARKET") == "Whole Foods Market"


def test_create_normalises_name_aliases_and_derived_columns():
    merchant = merchant_create(
        canonical_name="  blue   bottle coffee ",
        category="food & dining",
        country="us",
        aliases=["SQ *BLUE BOTTLE", "sq *blue bottle", " BLUE BOTTLE CAFE ", "", "Blue Bottle Coffee"],
        tags=["coffee"],
    )

    merchant.refresh_from_db()
    assert merchant.canonical_name == "Blue Bottle Coffee"
    assert merchant.category == Category.FOOD_DINING
    assert merchant.country == "US"
    assert merchant.aliases == ["BLUE BOTTLE CAFE", "SQ *BLUE BOTTLE"]
    assert merchant.normalized_name == "blue bottle coffee"
    assert merchant.alias_keys == ["blue bottle", "blue bottle cafe"]


def test_create_rejects_unknown_category_and_bad_country():
    with pytest.raises(DomainError):
        merchant_create(canonical_name="Shop", category="Gadgets")
    with pytest.raises(DomainError):
        merchant_create(canonical_name="Shop", category="Shopping", country="USA")
    assert not Merchant.objects.exists()


@pytest.mark.parametrize(
    ("name", "aliases", "code", "existing"),
    [
        ("STARBUCKS", [], "duplicate_name", "starbucks"),
        ("Coffee Chain", ["starbucks"], "duplicate_alias", "starbucks"),
        ("Sbux", [], "duplicate_alias", "starbucks"),
        ("Whole Foods Markets", [], "duplicate_near", "wholefoods"),
    ],
)
def test_create_conflicts_answer_with_the_existing_merchant(known_merchants, name, aliases, code, existing):
    with pytest.raises(Conflict) as excinfo:
        merchant_create(canonical_name=name, category="Shopping", aliases=aliases)

    assert excinfo.value.code == code
    assert excinfo.value.extra["existing_id"] == str(known_merchants[existing].id)
    assert Merchant.objects.count() == 5


def test_merge_moves_transactions_unions_aliases_and_deletes_sources():
    target = MerchantFactory(canonical_name="Amazon", aliases=["AMAZON.COM"])
    source_a = MerchantFactory(canonical_name="Amzn Marketplace", aliases=["AMZN MKTP", "amazon.com"])
    source_b = MerchantFactory(canonical_name="Amazon US", aliases=[])
    bystander = MerchantFactory(canonical_name="Target")
    moved = [TransactionFactory(merchant=source_a), TransactionFactory(merchant=source_b)]
    untouched = TransactionFactory(merchant=bystander)

    merged = merchant_merge(target=target, source_ids=[source_a.id, source_b.id])

    assert merged.aliases == ["Amazon US", "AMAZON.COM", "Amzn Marketplace", "AMZN MKTP"]
    assert merged.alias_keys == ["amazon us", "amazon.com", "amzn marketplace", "amzn mktp"]
    assert set(target.transactions.all()) == set(moved)
    untouched.refresh_from_db()
    assert untouched.merchant == bystander
    assert set(Merchant.objects.values_list("canonical_name", flat=True)) == {"Amazon", "Target"}


def test_merge_with_an_unknown_source_changes_nothing():
    target = MerchantFactory(canonical_name="Amazon")
    source = MerchantFactory(canonical_name="Amzn")
    transaction = TransactionFactory(merchant=source)

    with pytest.raises(DomainError):
        merchant_merge(target=target, source_ids=[source.id, uuid.uuid4()])

    transaction.refresh_from_db()
    assert transaction.merchant == source
    assert Merchant.objects.count() == 2
    target.refresh_from_db()
    assert target.aliases == []


def test_merge_into_itself_is_refused():
    target = MerchantFactory()
    with pytest.raises(DomainError):
        merchant_merge(target=target, source_ids=[target.id])


def test_stats_selector_counts_only_the_users_live_transactions_in_range(user, other_user):
    from ledger.transactions.selectors import merchant_stats

    coffee = MerchantFactory(canonical_name="Starbucks")
    books = MerchantFactory(canonical_name="Waterstones")
    today = datetime.date(2026, 11, 20)
    for amount in ("4.50", "5.25", "-1.00"):
        TransactionFactory(user=user, merchant=coffee, amount=Decimal(amount), date=today)
    TransactionFactory(user=user, merchant=books, amount=Decimal("30.00"), date=today)
    TransactionFactory(user=user, merchant=books, amount=Decimal("99.00"), date=today, is_deleted=True)
    TransactionFactory(user=user, merchant=books, amount=Decimal("99.00"), date=today - datetime.timedelta(days=400))
    TransactionFactory(user=other_user, merchant=books, amount=Decimal("99.00"), date=today)

    rows = list(merchant_stats(user=user, date_from=today - datetime.timedelta(days=30), date_to=today))

    assert [(m.canonical_name, m.transaction_count, m.total_spent) for m in rows] == [
        ("Starbucks", 3, Decimal("8.75")),
        ("Waterstones", 1, Decimal("30.00")),
    ]
