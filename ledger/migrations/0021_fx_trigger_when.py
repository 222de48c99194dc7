"""Cheaper writes of converted rows.

- The conversion trigger is skipped by its WHEN clause (evaluated by the
  executor, no PL/pgSQL call) when the writer converted its rows itself
  (``tally.fx_precomputed``: COPY imports, the base-currency recompute):
  before, every such row still paid a trigger call that returned at once.
- ``ledger_transaction_user_id`` is dropped: ``ledger_tx_user_date_idx`` (and
  every other user-led index) serves ``user_id = ...``, and the recompute
  rewrote one index entry fewer per row."""

from django.conf import settings
from django.db import migrations, models

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
        ("ledger", "0020_import_expired_status"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunSQL(WHEN, ALWAYS),
        migrations.AlterField(
            model_name="transaction",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=models.deletion.CASCADE,
                related_name="transactions",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
