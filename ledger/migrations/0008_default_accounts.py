"""Every existing transaction into an account: one default account per user
and currency found in their rows. Reversible: backwards, rows leave their
accounts and the accounts (with anything hanging on them) go."""

from django.db import migrations

FORWARD = [
    """
    INSERT INTO ledger_account (id, created_at, updated_at, user_id, name, kind, currency, institution,
                                number_mask, iban, opening_balance, opening_date, on_budget,
                                include_in_net_worth, is_default, closed_at)
    SELECT gen_random_uuid(), now(), now(), d.user_id, 'Main ' || d.currency, 'checking', d.currency, '', '', '',
           0, NULL, true, true, true, NULL
    FROM (SELECT DISTINCT user_id, upper(currency) AS currency FROM ledger_transaction WHERE account_id IS NULL) d
    ON CONFLICT DO NOTHING
    """,
    """
    UPDATE ledger_transaction t SET account_id = a.id
    FROM ledger_account a
    WHERE t.account_id IS NULL AND a.user_id = t.user_id AND a.currency = upper(t.currency) AND a.is_default
    """,
]

BACKWARD = [
    "DELETE FROM ledger_reconciliation",
    "DELETE FROM ledger_transfersuggestion",
    "UPDATE ledger_transaction SET account_id = NULL, transfer_id = NULL, kind = 'standard'",
    "DELETE FROM ledger_transfer",
    "UPDATE ledger_importjob SET account_id = NULL",
    "DELETE FROM ledger_account",
]


class Migration(migrations.Migration):
    dependencies = [("ledger", "0007_accounts")]

    operations = [migrations.RunSQL(FORWARD, reverse_sql=BACKWARD)]
