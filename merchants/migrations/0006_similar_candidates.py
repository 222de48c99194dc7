"""Candidates for matching a statement string to a merchant (the cut-off
path: match_merchant, match_merchants), as a function so its trigram
threshold is its own: plain similarity (%) at the caller's minimum score,
set through set_config(..., true) inside and restored on return by the SET
clause. The GIN index prunes on the share of trigrams a name must hold for
that similarity, so at 0.5 a probe that matches nothing reads few index
entries; the word-similarity search of 0005 (%> at 0.6, widened to 0.45)
stays for the search box, where recall matters more than a cut-off."""

from django.db import migrations

CREATE = """
CREATE FUNCTION merchants_similar_candidates(
    query text, only_category text, max_rows integer, min_similarity float8
)
RETURNS TABLE (id uuid, dist real)
LANGUAGE plpgsql VOLATILE
SET pg_trgm.similarity_threshold = 0.5
AS $$
BEGIN
    PERFORM set_config('pg_trgm.similarity_threshold', min_similarity::text, true);
    RETURN QUERY
        SELECT c.id, c.dist
        FROM (
            SELECT m.id, m.normalized_name <-> query AS dist
            FROM merchants_merchant m
            WHERE m.normalized_name % query AND (only_category IS NULL OR m.category = only_category)
        ) AS c
        WHERE c.dist <= 1 - min_similarity
        ORDER BY c.dist, c.id
        LIMIT max_rows;
END $$;
"""

DROP = "DROP FUNCTION IF EXISTS merchants_similar_candidates(text, text, integer, float8);"


class Migration(migrations.Migration):
    dependencies = [("merchants", "0005_fuzzy_candidates")]

    # One statement each, not split by sqlparse (a plpgsql body).
    operations = [migrations.RunSQL([CREATE], [DROP])]
