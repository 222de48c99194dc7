import uuid

from django.db import models


class MerkleBatch(models.Model):
    """One night's anchoring: the Merkle root over every transaction created
    before ``cutoff`` that no earlier batch holds (see ledger/anchoring/merkle.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch_date = models.DateField(unique=True)
    root_hash = models.CharField(max_length=64)
    transaction_count = models.PositiveIntegerField(default=0)
    anchor_backend = models.CharField(max_length=32, default="local")
    anchor_ref = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    cutoff = models.DateTimeField(null=True, blank=True)
    hash_version = models.PositiveSmallIntegerField(default=1)
    # Roots of each run of ``chunk_size`` leaves (32 bytes each, in order): a
    # proof reads one chunk of leaf hashes plus these, not the whole batch.
    chunk_size = models.PositiveIntegerField(default=1024)
    chunk_roots = models.BinaryField(default=bytes, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verification_ok = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-batch_date"]
        verbose_name_plural = "Merkle batches"

    def __str__(self):
        return f"{self.batch_date} {self.root_hash[:12]}"


class MerkleChunk(models.Model):
    """The anchored leaves of one run of ``chunk_size`` leaves of a batch, kept
    apart from the transaction rows: a row edited or deleted later cannot
    take its neighbours' proofs with it, and verification compares each row
    with what was anchored rather than with a column that may be rewritten."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(MerkleBatch, on_delete=models.CASCADE, related_name="chunks")
    chunk_index = models.PositiveIntegerField()
    # 32-byte transaction hashes and 16-byte transaction ids, in leaf order.
    transaction_hashes = models.BinaryField()
    transaction_ids = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "chunk_index"], name="ledger_merklechunk_batch_index_uniq")
        ]

    def __str__(self):
        return f"{self.batch_id} chunk {self.chunk_index}"
