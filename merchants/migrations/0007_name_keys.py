"""The one-typo tier's index (merchants.selectors): each name's first
PREFIX_LENGTH characters and every string one deletion away from them
(SymSpell's prefix deletion keys). Two strings within one edit of each other
(a letter missing, extra or wrong, or two letters swapped) share a key in
their first PREFIX_LENGTH characters, so a GIN lookup of the query's keys
finds those names without reading any trigram posting list; the selector
then checks the whole name with levenshtein_less_equal (fuzzystrmatch).
Seven characters keep a key's rows few (at 1M benchmark names: 1.6M distinct
keys, the largest 548 rows, 131 MB) while a name's keys stay eight."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.expressions
import django.db.models.fields
from django.contrib.postgres.operations import CreateExtension
from django.db import migrations

PREFIX_LENGTH = 7

CREATE = f"""
CREATE FUNCTION merchants_name_keys(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
    SELECT array_agg(DISTINCT k.key)
    FROM (
        SELECT left(name, {PREFIX_LENGTH}) AS key
        UNION ALL
        SELECT overlay(left(name, {PREFIX_LENGTH}) PLACING '' FROM i FOR 1)
        FROM generate_series(1, length(left(name, {PREFIX_LENGTH}))) AS i
    ) AS k
$$;
"""

DROP = "DROP FUNCTION IF EXISTS merchants_name_keys(text);"


class Migration(migrations.Migration):
    dependencies = [("merchants", "0006_similar_candidates")]

    operations = [
        CreateExtension("fuzzystrmatch"),
        migrations.RunSQL([CREATE], [DROP]),
        migrations.AddIndex(
            model_name="merchant",
            index=django.contrib.postgres.indexes.GinIndex(
                django.db.models.expressions.Func(
                    django.db.models.expressions.F("normalized_name"),
                    function="merchants_name_keys",
                    output_field=django.contrib.postgres.fields.ArrayField(django.db.models.fields.TextField()),
                ),
                fastupdate=False,
                name="merchants_name_keys_gin",
            ),
        ),
    ]
