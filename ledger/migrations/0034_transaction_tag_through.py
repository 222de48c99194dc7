"""The tags relation's table (ledger_transaction_tags) declared as the model
TransactionTag, the same table and columns (state only), to shape its keys
(reversible: migrating back restores both):
- the transaction key loses its database constraint: each pair a bulk tag
  or an import wrote was checked at commit, locking its transaction row
  (22k pairs among 1.16M rows: 923 ms of checks after a 404 ms insert);
  the pairs go with their transaction through the ORM's cascade;
- the lone transaction_id index goes: the unique (transaction_id, tag_id)
  leads with it.
"""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "ledger_transaction_tags"
FK = "ledger_transaction_t_transaction_id_1aab8deb_fk_ledger_tr"
INDEX = "ledger_transaction_tags_transaction_id_1aab8deb"


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0033_importrow_link_unindexed"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="TransactionTag",
                    fields=[
                        ("id", models.BigAutoField(primary_key=True, serialize=False)),
                        (
                            "tag",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="ledger.tag"
                            ),
                        ),
                        (
                            "transaction",
                            models.ForeignKey(
                                db_constraint=False,
                                db_index=False,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="ledger.transaction",
                            ),
                        ),
                    ],
                    options={
                        "db_table": TABLE,
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("transaction", "tag"),
                                name="ledger_transaction_tags_transaction_id_tag_id_1f2112ab_uniq",
                            )
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="transaction",
                    name="tags",
                    field=models.ManyToManyField(
                        blank=True, related_name="transactions", through="ledger.TransactionTag", to="ledger.tag"
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    sql=[f"ALTER TABLE {TABLE} DROP CONSTRAINT {FK}", f"DROP INDEX {INDEX}"],
                    reverse_sql=[
                        f"CREATE INDEX {INDEX} ON {TABLE} (transaction_id)",
                        f"ALTER TABLE {TABLE} ADD CONSTRAINT {FK} FOREIGN KEY (transaction_id) "
                        "REFERENCES ledger_transaction (id) DEFERRABLE INITIALLY DEFERRED",
                    ],
                ),
            ],
        ),
    ]
