"""ledger/merkle.py: the hash and tree rules a third party recomputes. No
database here; the expected values are written out independently."""

import hashlib

import pytest

from ledger.anchoring import merkle

VECTOR_FACTS = {
    "id": "0b7e4c1e-2f43-4f55-9a5e-3c1d2b7a9f10",
    "user_id": "5f0c6a3e-8d2b-4c1a-9e7f-1a2b3c4d5e6f",
    "amount": "-12.50",
    "currency": "EUR",
    "date": "2026-11-20",
    "merchant_raw": "Café Zürich | 1:2,",
    "source": "csv",
    "created_at": "2026-11-20T08:15:30.123456Z",
}
# Known answer, committed: changing the serialization must change HASH_VERSION.
VECTOR_CANONICAL = (
    b"11:tally.tx.v1,36:0b7e4c1e-2f43-4f55-9a5e-3c1d2b7a9f10,36:5f0c6a3e-8d2b-4c1a-9e7f-1a2b3c4d5e6f,"
    b"6:-12.50,3:EUR,10:2026-11-20,20:Caf\xc3\xa9 Z\xc3\xbcrich | 1:2,,3:csv,27:2026-11-20T08:15:30.123456Z,"
)
VECTOR_HASH = "7074a9005f41f526b7360d87598e7e76d0302d448216ea82c09adef8815b1cc2"
VECTOR_LEAF = "4848ed0fcd19c15ad4060d8c8d90712b02423c999c64f84429c07364654b3835"


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(count)]


def test_known_answer_vector():
    assert merkle.canonical_bytes(VECTOR_FACTS) == VECTOR_CANONICAL
    assert merkle.transaction_hash(VECTOR_FACTS) == VECTOR_HASH == hashlib.sha256(VECTOR_CANONICAL).hexdigest()
    assert merkle.leaf_hash(VECTOR_HASH).hex() == VECTOR_LEAF == sha(b"\x00" + bytes.fromhex(VECTOR_HASH)).hex()


def test_hash_covers_every_fact():
    for name in merkle.FACT_FIELDS:
        changed = {**VECTOR_FACTS, name: VECTOR_FACTS[name] + "0"}
        assert merkle.transaction_hash(changed) != VECTOR_HASH, name


def test_length_prefixes_keep_field_boundaries():
    # Moving text across a field boundary gives a different hash.
    a = {**VECTOR_FACTS, "merchant_raw": "AB", "source": "csv"}
    b = {**VECTOR_FACTS, "merchant_raw": "A", "source": "Bcsv"}
    assert merkle.transaction_hash(a) != merkle.transaction_hash(b)


def test_small_trees_follow_the_documented_rules():
    a, b, c, d = leaves(4)
    node = lambda x, y: sha(b"\x01" + x + y)  # noqa: E731
    assert merkle.merkle_root([]) == sha(b"")
    assert merkle.merkle_root([a]) == a
    assert merkle.merkle_root([a, b]) == node(a, b)
    # Three leaves: the odd one moves up unchanged, it is not paired with itself.
    assert merkle.merkle_root([a, b, c]) == node(node(a, b), c)
    assert merkle.merkle_root([a, b, c, d]) == node(node(a, b), node(c, d))


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 1000])
def test_every_leaf_proves_against_the_root(count):
    nodes = leaves(count)
    root = merkle.merkle_root(nodes)
    for index, leaf in enumerate(nodes):
        path = merkle.merkle_path(nodes, index)
        assert [side for side, _ in path] == merkle.expected_positions(index, count)
        assert merkle.root_from_path(leaf, path) == root
    if count > 1:
        # A path proves only its own leaf.
        assert merkle.root_from_path(nodes[0], merkle.merkle_path(nodes, count - 1)) != root


@pytest.mark.parametrize("count,chunk_size", [(1000, 8), (1000, 1024), (1025, 16), (3, 2), (0, 4)])
def test_chunked_builder_and_paths_match_the_whole_tree(count, chunk_size):
    nodes = leaves(count)
    builder = merkle.ChunkedRootBuilder(chunk_size)
    for leaf in nodes:
        builder.add(leaf)
    root, chunk_roots = builder.finish()
    assert root == merkle.merkle_root(nodes)
    assert len(chunk_roots) == -(-count // chunk_size)
    for index in range(0, count, 37):
        first = index - index % chunk_size
        path = merkle.chunked_path(nodes[first : first + chunk_size], chunk_roots, index, chunk_size)
        assert path == merkle.merkle_path(nodes, index)


def test_chunk_size_must_be_a_power_of_two():
    with pytest.raises(ValueError):
        merkle.ChunkedRootBuilder(1000)


def proof_for(count: int, index: int) -> tuple[dict, list[bytes]]:
    facts = [{**VECTOR_FACTS, "id": f"00000000-0000-0000-0000-{i:012d}"} for i in range(count)]
    hashes = [merkle.transaction_hash(f) for f in facts]
    nodes = [merkle.leaf_hash(h) for h in hashes]
    proof = {
        "hash_version": 1,
        "transaction_id": facts[index]["id"],
        "transaction": facts[index],
        "transaction_hash": hashes[index],
        "leaf_hash": nodes[index].hex(),
        "leaf_index": index,
        "leaf_count": count,
        "path": [{"position": side, "hash": h.hex()} for side, h in merkle.merkle_path(nodes, index)],
        "root_hash": merkle.merkle_root(nodes).hex(),
    }
    return proof, nodes


def failed(checks) -> list[str]:
    return [name for name, passed, _ in checks if not passed]


def test_genuine_proof_verifies():
    proof, _ = proof_for(5, 4)
    assert failed(merkle.verify_proof(proof)) == []


@pytest.mark.parametrize(
    "forge,expected_failure",
    [
        (lambda p: p["transaction"].update(amount="-1.50"), "facts hash to transaction_hash"),
        (lambda p: p["path"][0].update(hash="00" * 32), "path leads to root_hash"),
        (lambda p: p["path"][0].update(position="left"), "path sides match leaf index and count"),
        (lambda p: p.update(leaf_index=1), "path sides match leaf index and count"),
        (lambda p: p.update(root_hash="ab" * 32), "path leads to root_hash"),
        (lambda p: p.update(hash_version=3), "hash version"),
        (lambda p: p.update(transaction_id="11111111-1111-1111-1111-111111111111"), "transaction_id is the facts' id"),
    ],
)
def test_forged_proofs_are_rejected(forge, expected_failure):
    proof, _ = proof_for(5, 2)
    forge(proof)
    assert expected_failure in failed(merkle.verify_proof(proof))


def test_a_node_cannot_pose_as_a_leaf():
    """Without domain separation the parent of leaves 0 and 1 could be
    presented as a 'leaf' one level up. Here a leaf is SHA-256(0x00 || 32
    bytes) and a node SHA-256(0x01 || 64 bytes), so the claim fails."""
    proof, nodes = proof_for(4, 0)
    parent = merkle.node_hash(nodes[0], nodes[1])
    uncle = merkle.node_hash(nodes[2], nodes[3])
    assert merkle.root_from_path(parent, [("right", uncle)]).hex() == proof["root_hash"]
    forged = {
        **proof,
        "leaf_hash": parent.hex(),
        "leaf_count": 2,
        "leaf_index": 0,
        "path": [{"position": "right", "hash": uncle.hex()}],
    }
    assert "leaf_hash = SHA-256(0x00 || transaction_hash)" in failed(merkle.verify_proof(forged))
    assert "path leads to root_hash" in failed(merkle.verify_proof(forged))
    # Nor can a 64-byte "transaction hash" (two children) stand in for a leaf.
    forged["transaction_hash"] = (nodes[0] + nodes[1]).hex()
    assert "proof well formed" in failed(merkle.verify_proof(forged))
