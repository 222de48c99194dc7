"""Cheaper writes of converted rows.

- The conversion trigger is skipped by its WHEN clause (evaluated by the
  executor, no PL/pgSQL call) when the writer converted its rows itself
  (``tally.fx_precomputed``: COPY imports, the base-currency recompute):
  before, every such row still paid a trigger call that returned at once.
(The redundant ledger_transaction(user_id) index goes in h-ioperf's
migration, which drops it for the import's sake too.)"""

from django.db import migrations

WHEN = """
DROP TRIGGER IF EXISTS ledger_transaction_convert ON ledger_transaction;
CREATE TRIGGER ledger_transaction_convert
BEFORE INSERT OR UPDATE OF amount, currency, date, base_currency ON ledger_transaction
FOR EACH ROW WHEN (current_setting('tally.fx_precomputed', true) IS DISTINCT FROM 'on')
EXECUTE FUNCTION ledger_transaction_convert();
"""

ALWAYS = """
DROP TRIGGER IF EXISTS ledger_transaction_convert ON ledger_transaction;
CREATE TRIGGER ledger_transaction_convert
BEFORE INSERT OR UPDATE OF amount, currency, date, base_currency ON ledger_transaction
FOR EACH ROW EXECUTE FUNCTION ledger_transaction_convert();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0024_import_classified_version"),
    ]

    operations = [
        migrations.RunSQL(WHEN, ALWAYS),
    ]
