import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """RESTRICT instead of PROTECT: deleting a user (whose rows cascade too)
    works, an account with rows still cannot be deleted on its own."""

    dependencies = [("ledger", "0010_attachments")]

    operations = [
        migrations.AlterField(
            model_name="transaction",
            name="account",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.RESTRICT, related_name="transactions", to="ledger.account"
            ),
        ),
    ]
