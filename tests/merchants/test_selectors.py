import pytest

from merchants.categories import Category
from merchants.selectors import merchant_search
from tests.merchants.factories import merchant_with_aliases as make

pytestmark = pytest.mark.django_db


def hits(q, **kwargs):
    return [(m.canonical_name, round(m.score, 2), m.match) for m in merchant_search(q=q, **kwargs)]


def test_exact_tier_ignores_case_and_store_numbers():
    make("Starbucks")
    assert hits("STARBUCKS") == [("Starbucks", 1.0, "exact")]
    assert hits("starbucks #1234") == [("Starbucks", 1.0, "exact")]


def test_alias_tier_is_case_insensitive():
    make("Amazon", ["AMZN MKTP US", "AMZN MKTP"])
    assert hits("amzn mktp us") == [("Amazon", 0.9, "alias")]
    assert hits("AMZN MKTP") == [("Amazon", 0.9, "alias")]


def test_prefix_tier_matches_names_starting_with_the_query():
    make("Starbucks")
    make("Star Bazaar")
    make("Costa Coffee")
    assert hits("sta") == [("Star Bazaar", 0.7, "prefix"), ("Starbucks", 0.7, "prefix")]


def test_prefix_tier_matches_statement_text_starting_with_a_whole_name():
    make("Starbucks")
    assert hits("STARBUCKS STORE 01234 SEATTLE WA") == [("Starbucks", 0.7, "prefix")]


def test_fuzzy_tier_scores_by_similarity_and_finds_misspellings():
    make("Swiggy")
    make("Zomato")
    results = merchant_search(q="Swigy")
    assert [(m.canonical_name, m.match) for m in results] == [("Swiggy", "fuzzy")]
    assert 0.3 <= results[0].score < 0.7


def test_a_name_one_typo_away_answers_without_names_sharing_only_a_common_word():
    make("Simasi Hardware")
    make("Kaxo Hardware")  # holds 60% of the query's trigrams, all of them from "hardware"
    make("Bolu Hardware")

    results = merchant_search(q="Siasi Hardware")

    assert [(m.canonical_name, m.match) for m in results] == [("Simasi Hardware", "fuzzy")]
    assert 0.3 <= results[0].score < 1.0


def test_two_swapped_letters_count_as_one_typo():
    make("Starbucks")
    assert [(m.canonical_name, m.match) for m in merchant_search(q="Stabrucks")] == [("Starbucks", "fuzzy")]


def test_names_starting_with_the_query_answer_without_the_trigram_tier():
    make("Uber Eats")
    make("Uber Great Eats")  # holds 7 of the query's 8 trigrams, more than two edits away
    assert hits("uber ea") == [("Uber Eats", 0.7, "prefix")]


def test_mixed_results_are_ordered_best_first_and_deduplicated():
    uber = make("Uber", ["UBER *TRIP"], Category.TRANSPORT)
    make("Uber Eats", ["UBER *EATS", "UBER"], Category.FOOD_DINING)
    make("Ubers Garage")
    make("Tuber Farm")

    results = merchant_search(q="uber")

    names = [m.canonical_name for m in results]
    assert names[:3] == ["Uber", "Uber Eats", "Ubers Garage"]
    assert [m.match for m in results[:3]] == ["exact", "alias", "prefix"]
    assert [m.score for m in results] == sorted((m.score for m in results), reverse=True)
    assert len(names) == len(set(names))
    assert results[0].id == uber.id


def test_category_filter_applies_to_every_tier():
    make("Uber", ["UBER *TRIP"], Category.TRANSPORT)
    make("Uber Eats", ["UBER"], Category.FOOD_DINING)
    assert hits("uber", category=Category.FOOD_DINING) == [("Uber Eats", 0.9, "alias")]


def test_category_filter_applies_to_one_typo_names():
    make("Swiggy", category=Category.FOOD_DINING)
    make("Swiggi", category=Category.GROCERIES)
    assert [m.canonical_name for m in merchant_search(q="Swigy", category=Category.GROCERIES)] == ["Swiggi"]


def test_limit_caps_the_result_count():
    for n in range(5):
        make(f"Shop Number {n}")
    assert len(merchant_search(q="shop", limit=3)) == 3


def test_search_is_one_query(django_assert_num_queries):
    make("Starbucks", ["SBUX"])
    with django_assert_num_queries(1):
        merchant_search(q="starbucks")
