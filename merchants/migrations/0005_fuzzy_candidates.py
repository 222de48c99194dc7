"""The fuzzy tier's candidates as a function, so its trigram thresholds are
its own (the SET clause and set_config(..., true) inside hold only while it
runs). Two stages: names holding 60% of the query's trigrams (few, fast); only
when none of them is close (similarity 0.65) and the caller allows it (no name
starts with the query) does it widen to 45%, which every
one-edit misspelling of the benchmark's names reaches (0.47 and up) but which
lets names that share only a common word ("salon") through to be ranked."""

from django.db import migrations

STRICT = 0.6  # word similarity: names holding 60% of the query's trigrams
WIDE = 0.45  # every one-edit misspelling of the benchmark's names (0.47 and up)
CLOSE_ENOUGH = 0.35  # a distance (1 - similarity) that ends the search at the strict stage

CANDIDATES = """
        SELECT c.id, c.dist
        FROM (
            SELECT m.id, m.normalized_name <-> query AS dist
            FROM merchants_merchant m
            WHERE m.normalized_name %> query AND (only_category IS NULL OR m.category = only_category)
        ) AS c
        WHERE c.dist <= 1 - min_similarity
        ORDER BY c.dist, c.id
        LIMIT max_rows
"""

CREATE = f"""
CREATE FUNCTION merchants_fuzzy_candidates(
    query text, only_category text, max_rows integer, min_similarity float8, may_widen boolean
)
RETURNS TABLE (id uuid, dist real)
LANGUAGE plpgsql VOLATILE
SET pg_trgm.word_similarity_threshold = {STRICT}
AS $$
DECLARE
    ids uuid[];
    dists real[];
BEGIN
    SELECT array_agg(s.id ORDER BY s.dist, s.id), array_agg(s.dist ORDER BY s.dist, s.id) INTO ids, dists
    FROM ({CANDIDATES}) AS s;
    IF may_widen AND (dists IS NULL OR dists[1] > {CLOSE_ENOUGH}) THEN
        -- Nothing close among names holding most of the query's trigrams: widen (restored on return).
        PERFORM set_config('pg_trgm.word_similarity_threshold', '{WIDE}', true);
        RETURN QUERY {CANDIDATES};
    ELSE
        RETURN QUERY SELECT * FROM unnest(ids, dists);
    END IF;
END $$;
"""

DROP = "DROP FUNCTION IF EXISTS merchants_fuzzy_candidates(text, text, integer, float8, boolean);"


class Migration(migrations.Migration):
    dependencies = [("merchants", "0004_category_labels")]

    # Lists: one statement each, not split by sqlparse (which cuts a plpgsql body at DECLARE).
    operations = [migrations.RunSQL([CREATE], [DROP])]
