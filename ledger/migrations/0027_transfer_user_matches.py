"""Pairs the user linked with POST transfers/match were recorded as
created_by=user, as if entered with POST transfers, so deleting one leg
deleted both. They are matches: the legs are two rows entered or imported
on their own. A transfer entered with POST transfers is recognisable: both
legs were created with it (within seconds) in category Transfers; every
other `user` transfer becomes `match`. Not reversed: before this migration
the two kinds were not told apart."""

from django.db import migrations

FORWARD = """
UPDATE ledger_transfer t SET created_by = 'match'
FROM ledger_transaction o, ledger_transaction i
WHERE t.created_by = 'user' AND o.id = t.out_leg_id AND i.id = t.in_leg_id
  AND (t.out_category <> 'Transfers' OR t.in_category <> 'Transfers'
       OR o.created_at < t.created_at - interval '5 seconds' OR i.created_at < t.created_at - interval '5 seconds')
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0026_recurrence_currency")]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
