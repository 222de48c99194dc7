"""Proofs for single anchored transactions, and the rule that anchored facts
are final."""

import logging

from django.db import connection

from config.errors import Conflict
from ledger.anchoring import merkle
from ledger.anchoring.hashing import FACT_COLUMNS, row_facts, split_blob
from ledger.errors import LedgerErrorCode
from ledger.models import MerkleBatch, MerkleChunk, Transaction
from ledger.transactions.selectors import transaction_get_any

logger = logging.getLogger("ledger.anchoring.services")


def _transaction_facts(transaction_id, version: int) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {FACT_COLUMNS} FROM ledger_transaction t WHERE t.id = %s", [transaction_id])
        return row_facts(cursor.fetchone(), version)


def transaction_proof(*, user, transaction_id) -> dict:
    """The Merkle proof for one of the user's anchored transactions: what
    ``python -m ledger.verify_proof`` checks offline. Built from the anchored
    leaves, so edits or deletes of other rows never touch it; the facts are
    the row as it is now, and ``row_matches`` says whether they still hash
    to the anchored leaf."""
    tx = transaction_get_any(user=user, transaction_id=transaction_id)
    if tx.merkle_batch_id is None:
        raise Conflict(
            "This transaction is not anchored yet; the nightly anchoring (02:00 UTC) will include it.",
            code=LedgerErrorCode.NOT_ANCHORED,
        )
    batch = MerkleBatch.objects.get(pk=tx.merkle_batch_id)
    size = batch.chunk_size
    chunk = MerkleChunk.objects.filter(batch=batch, chunk_index=(tx.leaf_index or 0) // size).first()
    hashes = split_blob(chunk.transaction_hashes, 32) if chunk else []
    ids = split_blob(chunk.transaction_ids, 16) if chunk else []
    offset = (tx.leaf_index or 0) % size
    if tx.leaf_index is None or offset >= len(hashes) or ids[offset] != tx.id.bytes:
        logger.error("no anchored leaf for transaction %s in batch %s", tx.id, batch.batch_date)
        raise Conflict(
            "The anchored record of this transaction is damaged; staff have to run verify_ledger.",
            code=LedgerErrorCode.PROOF_UNAVAILABLE,
        )
    anchored_hash = hashes[offset].hex()
    path = merkle.chunked_path(
        [merkle.leaf_hash(h.hex()) for h in hashes], split_blob(batch.chunk_roots, 32), tx.leaf_index, size
    )
    facts = _transaction_facts(tx.id, batch.hash_version)
    return {
        "proof_version": 1,
        "hash_version": batch.hash_version,
        "transaction_id": str(tx.id),
        "transaction": facts,
        "transaction_hash": anchored_hash,
        "leaf_hash": merkle.leaf_hash(anchored_hash).hex(),
        "leaf_index": tx.leaf_index,
        "leaf_count": batch.transaction_count,
        "path": [{"position": side, "hash": sibling.hex()} for side, sibling in path],
        "root_hash": batch.root_hash,
        "batch_date": batch.batch_date.isoformat(),
        "anchor": {"backend": batch.anchor_backend, "ref": batch.anchor_ref},
        "row_matches": merkle.transaction_hash(facts, batch.hash_version) == anchored_hash,
    }


ANCHORED_FIELDS = ("amount", "date", "merchant_raw", "currency", "source", "account")


def reject_anchored_changes(*, transaction: Transaction, changes: dict) -> None:
    """Anchored facts are final: editing one would break the batch's proof.
    Category, notes and deletion are not hashed and stay editable."""
    if transaction.merkle_batch_id is None:
        return
    changed = []
    for name in ANCHORED_FIELDS:
        if name not in changes:
            continue
        value = changes[name].strip() if isinstance(changes[name], str) else changes[name]
        if value != getattr(transaction, name):
            changed.append(name)
    if changed:
        raise Conflict(
            f"This transaction is anchored in the ledger ({', '.join(changed)} cannot change). "
            "Delete it and enter a corrected transaction instead.",
            code=LedgerErrorCode.ANCHORED,
            fields=changed,
        )
