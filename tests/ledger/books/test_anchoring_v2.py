"""Hash version 2 (account id included) for new batches; a version-1 batch
keeps verifying, and its proofs keep their version-1 facts."""

import datetime

import pytest

from config.errors import Conflict
from ledger.anchoring import merkle
from ledger.anchoring import services as anchoring
from ledger.models import MerkleBatch, Transaction
from tests.ledger.factories import AccountFactory, TransactionFactory

UTC = datetime.UTC
DAY = datetime.date(2026, 11, 22)
NIGHT = datetime.datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


def _row(user, **fields):
    tx = TransactionFactory(user=user, **fields)
    Transaction.objects.filter(pk=tx.pk).update(created_at=datetime.datetime(2026, 11, 22, 9, tzinfo=UTC))
    return tx


def test_new_batches_hash_the_account(user):
    tx = _row(user, account=AccountFactory(user=user, name="Card"))
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    batch = MerkleBatch.objects.get()
    assert batch.hash_version == 2
    proof = anchoring.transaction_proof(user=user, transaction_id=tx.id)
    assert proof["transaction"]["account_id"] == str(tx.account_id)
    assert all(passed for _, passed, _ in merkle.verify_proof(proof)), merkle.verify_proof(proof)
    assert anchoring.batch_verify(batch=batch).ok
    # Moving an anchored row to another account would break its proof.
    from ledger.transactions import services

    with pytest.raises(Conflict):
        services.transaction_update(
            transaction=Transaction.objects.get(pk=tx.pk), user=user, account=AccountFactory(user=user)
        )


def test_version_one_batches_keep_verifying(user, monkeypatch):
    tx = _row(user)
    monkeypatch.setattr(merkle, "HASH_VERSION", 1)
    anchoring.ledger_anchor(batch_date=DAY, now=NIGHT)
    monkeypatch.undo()
    batch = MerkleBatch.objects.get()
    assert batch.hash_version == 1 and merkle.HASH_VERSION == 2
    assert anchoring.batch_verify(batch=batch).ok
    proof = anchoring.transaction_proof(user=user, transaction_id=tx.id)
    assert "account_id" not in proof["transaction"] and proof["row_matches"]
    assert all(passed for _, passed, _ in merkle.verify_proof(proof))
    tampered = {**proof, "hash_version": 2, "transaction": {**proof["transaction"], "account_id": "x"}}
    assert not all(passed for _, passed, _ in merkle.verify_proof(tampered))
