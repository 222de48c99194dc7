"""Merchant reads: the tiered search (one SQL statement), conflict lookup,
detail and per-user stats.

Indexes the search relies on (see migrations 0001/0002):
- merchants_norm_name_pattern  btree varchar_pattern_ops on normalized_name:
  the exact tier (=), the word-prefix probes (= ANY) and the prefix tier
  (LIKE 'q%').
- merchants_alias_keys_gin     GIN on alias_keys: the alias tier (&&).
Both GIN indexes have fastupdate off: the merchant list is read on every
transaction and written rarely, so no query should pay for a pending list.
- merchants_name_keys_gin      GIN on merchants_name_keys(normalized_name)
  (migration 0007): the fuzzy tier's one-typo candidates in the search box.
- merchants_norm_name_trgm     GIN gin_trgm_ops on normalized_name: the fuzzy
  tier (%>, word similarity), candidates then ordered by distance (<->).
"""

import json

from merchants.models import Merchant

SEARCH_MIN_SIMILARITY = 0.3
_MAX_HEAD_WORDS = 6


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _word_heads(normalized: str) -> list[str]:
    """ "starbucks seattle wa" -> ["starbucks", "starbucks seattle"]: a raw
    statement string that starts with a merchant's whole name."""
    words = normalized.split(" ")[:_MAX_HEAD_WORDS]
    return [" ".join(words[:n]) for n in range(1, len(words))]


# The alias tier is a MATERIALIZED CTE without a LIMIT: with a LIMIT the
# planner trusts its generic estimate for && on an array (~1% of rows) and
# picks a sequential scan "until 20 rows are found", which reads the whole
# table when the alias matches nothing. Exact alias hits are a handful of rows.
#
# The trigram tier does no work when the name or an alias matched exactly
# (the NOT EXISTS are uncorrelated: one-time filters, so the function below
# them is never called), nor, in the search box, when a name starts with the
# query or is one typo away from it (_NEAR_CTE below). Its candidates (merchants_fuzzy_candidates, migration
# 0005) come from the GIN index through %> (word similarity of the query to
# the name above 0.45, set on the function alone), ranked by similarity and
# limited inside; it widens its threshold only when nothing close turned up
# and no name starts with the query: a misspelt name keeps most of its trigrams, while % at 0.3
# let every name sharing one common word ("market") through to be ranked,
# which at 1M merchants was tens of thousands of rows per search.
_SEARCH_SQL = """
WITH alias_hits AS MATERIALIZED (
    SELECT id FROM merchants_merchant
    WHERE alias_keys && %(alias_probe)s::varchar[]{category}
), exact_hits AS MATERIALIZED (
    SELECT id FROM merchants_merchant
    WHERE (normalized_name = %(nq)s OR lower(canonical_name) = %(ql)s){category}
    ORDER BY canonical_name
    LIMIT %(tier_limit)s
), prefix_hits AS MATERIALIZED (
    SELECT id FROM merchants_merchant
    WHERE normalized_name LIKE %(like)s{category}
    ORDER BY normalized_name
    LIMIT %(tier_limit)s
){near_cte}
SELECT m.*, h.score, h.match
FROM (
    SELECT DISTINCT ON (t.id) t.id, t.score, t.match, t.tier
    FROM (
        (SELECT id, 1.0::float8 AS score, 'exact'::text AS match, 1 AS tier FROM exact_hits)
        UNION ALL
        (SELECT id, 0.9::float8, 'alias', 2 FROM alias_hits LIMIT %(tier_limit)s)
        UNION ALL
        (SELECT id, 0.7::float8, 'prefix', 3 FROM prefix_hits)
        UNION ALL
        (SELECT id, 0.7::float8, 'prefix', 3
         FROM merchants_merchant
         WHERE normalized_name = ANY(%(heads)s::varchar[]){category}
         LIMIT %(tier_limit)s)
        UNION ALL{near}
        (SELECT id, (1 - dist)::float8, 'fuzzy', 4
         FROM {fuzzy}
         WHERE NOT EXISTS (SELECT 1 FROM exact_hits) AND NOT EXISTS (SELECT 1 FROM alias_hits){no_near})
    ) AS t
    ORDER BY t.id, t.score DESC, t.tier
) AS h
JOIN merchants_merchant m ON m.id = h.id
WHERE h.score >= %(min_score)s
ORDER BY h.score DESC, h.tier, m.canonical_name
LIMIT %(limit)s
"""


# The search box's first fuzzy candidates: names one typo away, found by the
# prefix deletion keys they share with the query (GIN, migration 0007) and
# checked over the whole name by Levenshtein distance (2 at most: two swapped
# letters count 2), scored by trigram similarity as the trigram tier scores.
# Reading the keys' few rows costs about a millisecond at 1M merchants, where
# the trigram index scan for a misspelt name cost 20-300 ms (for a short first
# word, every name sharing a common word's trigrams, "hardware", passes word
# similarity 0.6 and is ranked), so that scan runs only when no name is one
# typo away and none starts with the query (typing ahead, the prefix tier
# answers: the scan cost up to 30 ms per keystroke for names it already
# had). The matcher (min_score at the cut-off) keeps the trigram tier
# alone: it must pick the best similarity overall, as merchant_best_matches does.
_NEAR_CTE = """, near_hits AS MATERIALIZED (
    SELECT id, (1 - (normalized_name <-> %(nq)s))::float8 AS score
    FROM merchants_merchant
    WHERE merchants_name_keys(normalized_name) && merchants_name_keys(%(nq)s)
      AND levenshtein_less_equal(normalized_name, %(nq)s, 2) <= 2{category}
      AND NOT EXISTS (SELECT 1 FROM exact_hits) AND NOT EXISTS (SELECT 1 FROM alias_hits)
    ORDER BY score DESC, id
    LIMIT %(tier_limit)s
)"""
_NEAR_BRANCH = """
        (SELECT id, score, 'fuzzy', 4 FROM near_hits)
        UNION ALL"""
_NO_NEAR = " AND NOT EXISTS (SELECT 1 FROM near_hits) AND NOT EXISTS (SELECT 1 FROM prefix_hits)"

# The search box's candidates (wide recall, word similarity) and the
# matcher's (similarity at the cut-off, migration 0006): a cut-off of 0.5
# lets the GIN index prune to names that hold half the query's trigrams,
# ~15x fewer index reads than the word-similarity search for a payee that
# matches nothing, and the best of them by distance is the best overall.
_SEARCH_FUZZY = """merchants_fuzzy_candidates(
             %(nq)s::text, %(category_or_null)s::text, %(tier_limit)s::integer, %(fuzzy_min)s::float8,
             NOT EXISTS (SELECT 1 FROM prefix_hits)
         )"""
_MATCH_FUZZY = """merchants_similar_candidates(
             %(nq)s::text, %(category_or_null)s::text, %(tier_limit)s::integer, %(fuzzy_min)s::float8
         )"""
# From this minimum score on, a search is a match (match_merchant's cut-off).
MATCH_SIMILARITY = 0.5


def merchant_search_sql(*, q: str, category: str | None = None, limit: int = 20, min_score: float = 0.0):
    """(sql, params) of the tiered search, or None when q normalises to
    nothing. Separate so the benchmark can EXPLAIN exactly what runs."""
    from merchants.services import normalize_merchant_text

    normalized = normalize_merchant_text(q)
    if not normalized:
        return None
    heads = _word_heads(normalized)
    params = {
        "nq": normalized,
        "ql": q.strip().lower(),
        "alias_probe": [normalized, *heads],
        "like": _like_escape(normalized) + "%",
        "heads": heads,
        "fuzzy_min": max(SEARCH_MIN_SIMILARITY, min_score),
        "min_score": min_score,
        "tier_limit": limit,
        "limit": limit,
        "category_or_null": category or None,
    }
    category_sql = ""
    if category:
        category_sql = " AND category = %(category)s"
        params["category"] = category
    if min_score < MATCH_SIMILARITY:
        near = {"near_cte": _NEAR_CTE.format(category=category_sql), "near": _NEAR_BRANCH, "no_near": _NO_NEAR}
        return _SEARCH_SQL.format(category=category_sql, fuzzy=_SEARCH_FUZZY, **near), params
    near = {"near_cte": "", "near": "", "no_near": ""}
    return _SEARCH_SQL.format(category=category_sql, fuzzy=_MATCH_FUZZY, **near), params


def merchant_search(*, q: str, category: str | None = None, limit: int = 20, min_score: float = 0.0) -> list[Merchant]:
    """Tiered search, best first, each merchant once, each carrying ``score``
    and ``match``: exact name 1.0, alias 0.9, prefix 0.7 (the name starts with
    the query, or the query starts with the whole name), fuzzy (score =
    trigram similarity, >= 0.3) only when no name or alias matched exactly:
    the names one typo away when there are any, otherwise (when no name starts
    with the query either) among names holding most of the query's trigrams;
    with min_score at the match cut-off, always the latter. One SQL statement:
    a UNION ALL of the tiers, each limited, so no tier can scan the table."""
    query = merchant_search_sql(q=q, category=category, limit=limit, min_score=min_score)
    if query is None:
        return []
    sql, params = query
    return list(Merchant.objects.raw(sql, params))


# The same tiers for many statement strings at once, in two statements
# whatever their number (an import's distinct payees).
#
# 1. The named tiers (exact name, alias, prefix) for every probe in one
#    set-based statement: each probe's tiers are index lookups in a LATERAL
#    subquery, the best kept per probe. The prefix tier is a range on the
#    pattern index (LIKE cannot use an index when the pattern comes from a
#    column rather than a constant), re-checked by left().
# 2. The trigram tier only for the probes no name or alias matched exactly
#    (as in the single search, nothing a trigram finds can outrank those),
#    through merchants_similar_candidates at the cut-off, one LATERAL call
#    per probe, LIMIT 1 inside.
_NAMED_BULK_SQL = """
SELECT best.nq, best.score, best.match, m.*
FROM (
    SELECT DISTINCT ON (p.nq) p.nq, t.id, t.score, t.match
    FROM jsonb_to_recordset(%(probes)s::jsonb)
         AS p(nq varchar, ql text, alias_probe varchar[], upper_bound text, heads varchar[])
    CROSS JOIN LATERAL (
        (SELECT id, canonical_name, 1.0::float8 AS score, 'exact'::text AS match, 1 AS tier
         FROM merchants_merchant
         WHERE normalized_name = p.nq OR lower(canonical_name) = p.ql
         ORDER BY canonical_name LIMIT 1)
        UNION ALL
        (SELECT id, canonical_name, 0.9::float8, 'alias', 2
         FROM merchants_merchant WHERE alias_keys && p.alias_probe
         ORDER BY canonical_name LIMIT 1)
        UNION ALL
        (SELECT id, canonical_name, 0.7::float8, 'prefix', 3
         FROM merchants_merchant
         WHERE normalized_name ~>=~ p.nq AND normalized_name ~<~ p.upper_bound
               AND left(normalized_name, length(p.nq)) = p.nq
         ORDER BY normalized_name LIMIT 1)
        UNION ALL
        (SELECT id, canonical_name, 0.7::float8, 'prefix', 3
         FROM merchants_merchant WHERE normalized_name = ANY(p.heads)
         ORDER BY canonical_name LIMIT 1)
    ) AS t
    WHERE t.score >= %(min_score)s
    ORDER BY p.nq, t.score DESC, t.tier, t.canonical_name
) AS best
JOIN merchants_merchant m ON m.id = best.id
"""

_FUZZY_BULK_SQL = """
SELECT p.nq, (1 - c.dist)::float8 AS score, m.*
FROM unnest(%(nqs)s::varchar[]) AS p(nq)
CROSS JOIN LATERAL merchants_similar_candidates(p.nq::text, NULL::text, 1, %(fuzzy_min)s::float8) AS c
JOIN merchants_merchant m ON m.id = c.id
"""


def _probe(q: str, normalized: str) -> dict:
    heads = _word_heads(normalized)
    return {
        "nq": normalized,
        "ql": q.strip().lower(),
        "alias_probe": [normalized, *heads],
        # Above every string that starts with the probe (the highest code point), for the index range.
        "upper_bound": normalized + "\U0010ffff",
        "heads": heads,
    }


def merchant_best_matches(*, texts: dict[str, str], min_score: float) -> dict[str, tuple[Merchant, float, str]]:
    """{normalized: raw} -> {normalized: (merchant, score, match)} for the
    probes that have a hit at or above min_score: the tiered search's top hit
    for each (best score, then tier, then name), in at most two statements
    whatever the number of probes."""
    if not texts:
        return {}
    found: dict[str, tuple[Merchant, float, str]] = {}
    params = {"probes": json.dumps([_probe(raw, normalized) for normalized, raw in texts.items()]),
              "min_score": min_score}  # fmt: skip
    for merchant in Merchant.objects.raw(_NAMED_BULK_SQL, params):
        found[merchant.nq] = (merchant, float(merchant.score), merchant.match)
    # A prefix hit (0.7) can still lose to a closer trigram match; exact and alias hits cannot.
    fuzzy = [nq for nq in texts if nq not in found or found[nq][2] == "prefix"]
    if fuzzy:
        params = {"nqs": fuzzy, "fuzzy_min": max(SEARCH_MIN_SIMILARITY, min_score)}
        for merchant in Merchant.objects.raw(_FUZZY_BULK_SQL, params):
            score = float(merchant.score)
            named = found.get(merchant.nq)
            if score < min_score:
                continue
            if named is None or _outranks(score, 4, merchant, named):
                found[merchant.nq] = (merchant, score, "fuzzy")
    return found


_TIER = {"exact": 1, "alias": 2, "prefix": 3, "fuzzy": 4}


def _outranks(score: float, tier: int, merchant: Merchant, named: tuple[Merchant, float, str]) -> bool:
    """The single search's order: score, then tier, then name; the same
    merchant found twice keeps its better entry."""
    other, other_score, other_match = named
    key = (-score, tier, merchant.canonical_name)
    return key < (-other_score, _TIER[other_match], other.canonical_name)


_CONFLICT_SQL = """
SELECT m.*,
    CASE
        WHEN lower(m.canonical_name) = %(lname)s OR m.normalized_name = %(nq)s THEN 'name'
        WHEN lower(m.canonical_name) = ANY(%(alias_lowers)s::text[])
             OR m.normalized_name = ANY(%(alias_keys)s::varchar[])
             OR m.alias_keys && ARRAY[%(nq)s]::varchar[] THEN 'alias'
        ELSE 'near'
    END AS reason
FROM merchants_merchant m
WHERE NOT (m.id = ANY(%(exclude)s::uuid[]))
  AND (
    lower(m.canonical_name) = %(lname)s
    OR m.normalized_name = %(nq)s
    OR lower(m.canonical_name) = ANY(%(alias_lowers)s::text[])
    OR m.normalized_name = ANY(%(alias_keys)s::varchar[])
    OR m.alias_keys && ARRAY[%(nq)s]::varchar[]
    OR (m.normalized_name %% %(nq)s AND similarity(m.normalized_name, %(nq)s) > %(near)s)
  )
ORDER BY CASE
        WHEN lower(m.canonical_name) = %(lname)s OR m.normalized_name = %(nq)s THEN 1
        WHEN m.normalized_name %% %(nq)s AND similarity(m.normalized_name, %(nq)s) > %(near)s THEN 3
        ELSE 2
    END,
    similarity(m.normalized_name, %(nq)s) DESC
LIMIT 1
"""


def merchant_conflicts(
    *, canonical_name: str, normalized: str, aliases, alias_keys, near_similarity: float, exclude_ids=()
) -> tuple[Merchant, str] | None:
    """The existing merchant a new name/aliases would collide with and the
    reason (name | alias | near), in one query; None when there is none."""
    params = {
        "lname": canonical_name.lower(),
        "nq": normalized,
        "alias_lowers": [a.lower() for a in aliases],
        "alias_keys": list(alias_keys),
        "near": near_similarity,
        "exclude": [str(pk) for pk in exclude_ids],
    }
    rows = list(Merchant.objects.raw(_CONFLICT_SQL, params))
    if not rows:
        return None
    return rows[0], rows[0].reason
