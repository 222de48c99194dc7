from django.db import migrations

# One amount converted exactly as a transaction is (ledger_fx_rate, half up
# to the cent): split lines and balances are converted at read time with it.
CONVERT_AMOUNT = """
CREATE OR REPLACE FUNCTION ledger_convert_amount(amount numeric, from_cur varchar, to_cur varchar, on_date date)
RETURNS numeric LANGUAGE sql STABLE AS $$
  SELECT round(amount * (ledger_fx_rate(from_cur, to_cur, on_date)).rate, 2)
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0015_currency")]

    operations = [
        migrations.RunSQL(
            CONVERT_AMOUNT, "DROP FUNCTION IF EXISTS ledger_convert_amount(numeric, varchar, varchar, date);"
        )
    ]
