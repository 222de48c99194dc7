"""A per-user version of the ledger that PostgreSQL itself moves on every
statement writing ledger_transaction (ORM, COPY, raw SQL, admin alike), so a
cached list count keyed by it can never outlive the rows it counted. Values
come from a sequence: a rolled-back write never hands a used version out again.
Rows are upserted in user order so concurrent multi-user writes lock alike."""

from django.db import migrations

BUMP = """
CREATE SEQUENCE ledger_count_version_seq;
CREATE TABLE ledger_count_version (user_id uuid PRIMARY KEY, version bigint NOT NULL);
CREATE FUNCTION ledger_count_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ledger_count_version (user_id, version)
        SELECT u.user_id, nextval('ledger_count_version_seq')
        FROM (SELECT DISTINCT user_id FROM new_rows ORDER BY user_id) u
        ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO ledger_count_version (user_id, version)
        SELECT u.user_id, nextval('ledger_count_version_seq')
        FROM (SELECT user_id FROM new_rows UNION SELECT user_id FROM old_rows ORDER BY user_id) u
        ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version;
    ELSE
        INSERT INTO ledger_count_version (user_id, version)
        SELECT u.user_id, nextval('ledger_count_version_seq')
        FROM (SELECT DISTINCT user_id FROM old_rows ORDER BY user_id) u
        ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ledger_count_version_insert AFTER INSERT ON ledger_transaction
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_count_version_bump();
CREATE TRIGGER ledger_count_version_update AFTER UPDATE ON ledger_transaction
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_count_version_bump();
CREATE TRIGGER ledger_count_version_delete AFTER DELETE ON ledger_transaction
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_count_version_bump();
"""

DROP = """
DROP TRIGGER IF EXISTS ledger_count_version_insert ON ledger_transaction;
DROP TRIGGER IF EXISTS ledger_count_version_update ON ledger_transaction;
DROP TRIGGER IF EXISTS ledger_count_version_delete ON ledger_transaction;
DROP FUNCTION IF EXISTS ledger_count_version_bump();
DROP TABLE IF EXISTS ledger_count_version;
DROP SEQUENCE IF EXISTS ledger_count_version_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0017_budget_index_base_amounts")]

    operations = [migrations.RunSQL(BUMP, DROP)]
