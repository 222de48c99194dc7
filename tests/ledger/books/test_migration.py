"""0008_default_accounts forwards and backwards on a scratch state: rows of
two users in two currencies get one default account per user and currency."""

import datetime
import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("ledger", "0007_accounts")]
AFTER = [("ledger", "0009_transaction_account_required")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_default_accounts_migration_forwards_and_backwards():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    try:
        apps = _migrate(BEFORE)
        User = apps.get_model("accounts", "User")
        Transaction = apps.get_model("ledger", "Transaction")
        ann = User.objects.create(email="ann@example.com", password="!")
        bob = User.objects.create(email="bob@example.com", password="!")
        rows = [(ann, "USD"), (ann, "USD"), (ann, "EUR"), (bob, "USD")]
        for owner, currency in rows:
            Transaction.objects.create(
                id=uuid.uuid4(),
                user=owner,
                amount="5.00",
                currency=currency,
                date=datetime.date(2026, 1, 1),
                merchant_raw="Shop",
            )

        apps = _migrate(AFTER)
        Account = apps.get_model("ledger", "Account")
        Transaction = apps.get_model("ledger", "Transaction")
        accounts = sorted(Account.objects.values_list("user__email", "currency", "is_default", "name"))
        assert accounts == [
            ("ann@example.com", "EUR", True, "Main EUR"),
            ("ann@example.com", "USD", True, "Main USD"),
            ("bob@example.com", "USD", True, "Main USD"),
        ]
        for tx in Transaction.objects.select_related("account"):
            assert (tx.account.user_id, tx.account.currency) == (tx.user_id, tx.currency)

        apps = _migrate(BEFORE)
        Transaction = apps.get_model("ledger", "Transaction")
        assert not apps.get_model("ledger", "Account").objects.exists()
        assert Transaction.objects.filter(account__isnull=True).count() == 4
    finally:
        _migrate(latest)
