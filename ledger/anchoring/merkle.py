"""Transaction hashes and Merkle trees for the tamper-evident ledger.

Standard library only: the offline verifier (``python -m ledger.verify_proof``)
runs this file without Django, and a third party can recompute everything
from the rules below.

Transaction hash, version 1
    SHA-256 over the concatenation of netstrings (``<byte length>:<bytes>,``,
    UTF-8) of, in this order: the tag ``tally.tx.v1``, then the fields of
    ``FACT_FIELDS``, each written as:
      id, user_id   lower-case hyphenated UUID
      amount        fixed two decimals, '-' for money in, no '+' ("-12.50")
      currency      ISO 4217 code as stored ("USD")
      date          YYYY-MM-DD
      merchant_raw  the text as stored
      source        manual | csv | ocr | sms
      created_at    UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ (always six digits)
    Length prefixes make the encoding unambiguous whatever the text holds.

Transaction hash, version 2 (batches anchored since accounts exist)
    The same, with the tag ``tally.tx.v2`` and one more field at the end:
      account_id    lower-case hyphenated UUID of the row's account
    A batch records its version; version-1 batches keep verifying as they were.

Merkle tree
    leaf = SHA-256(0x00 || transaction hash)   (32 raw bytes in)
    node = SHA-256(0x01 || left || right)
    The different prefixes keep a leaf from posing as a node (RFC 6962).
    Leaves are in batch order (created_at, then id). Each level pairs nodes
    left to right; an odd node at the end of a level moves up unchanged (it
    is never paired with itself). This is RFC 6962's tree. An empty batch's
    root is SHA-256 of the empty string.

Proof
    The path lists, from the leaf upward, each sibling's hash and whether it
    sits to the ``left`` or ``right``; a level where the node moved up alone
    has no entry. ``expected_positions`` derives those sides from the leaf's
    index and the leaf count, so a proof cannot claim another position.
"""

import hashlib
from collections.abc import Iterable, Mapping, Sequence

HASH_VERSION = 2  # what new batches use
HASH_TAG = "tally.tx.v1"
FACT_FIELDS = ("id", "user_id", "amount", "currency", "date", "merchant_raw", "source", "created_at")
HASH_TAGS = {1: HASH_TAG, 2: "tally.tx.v2"}
FACT_FIELDS_BY_VERSION = {1: FACT_FIELDS, 2: (*FACT_FIELDS, "account_id")}
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
LEFT, RIGHT = "left", "right"


def _netstring(text: str) -> bytes:
    data = text.encode("utf-8")
    return str(len(data)).encode("ascii") + b":" + data + b","


def _version(facts: Mapping[str, str], version: int | None) -> int:
    return version if version is not None else (2 if "account_id" in facts else 1)


def canonical_bytes(facts: Mapping[str, str], version: int | None = None) -> bytes:
    """The exact bytes hashed for one transaction (``facts`` as strings);
    without a version, 2 when the facts hold an account_id, else 1."""
    version = _version(facts, version)
    fields = FACT_FIELDS_BY_VERSION[version]
    return _netstring(HASH_TAGS[version]) + b"".join(_netstring(facts[name]) for name in fields)


def transaction_hash(facts: Mapping[str, str], version: int | None = None) -> str:
    return hashlib.sha256(canonical_bytes(facts, version)).hexdigest()


def leaf_hash(transaction_hash_hex: str) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + bytes.fromhex(transaction_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class RootBuilder:
    """Streams leaves into a root keeping one pending subtree per height:
    memory grows with log2(leaves), never with the batch."""

    def __init__(self):
        self._stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
        self.count = 0

    def add(self, node: bytes, height: int = 0) -> None:
        self.count += 1 << height
        while self._stack and self._stack[-1][0] == height:
            _, left = self._stack.pop()
            node, height = node_hash(left, node), height + 1
        self._stack.append((height, node))

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        # Unpaired subtrees join right to left: the odd-node-moves-up rule.
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = node_hash(left, node)
        return node


class ChunkedRootBuilder:
    """A RootBuilder that also keeps the root of every run of ``chunk_size``
    leaves (a power of two, so each run is a whole subtree). A proof then
    needs one chunk of leaves plus the chunk roots: 32 bytes per chunk."""

    def __init__(self, chunk_size: int):
        if chunk_size < 1 or chunk_size & (chunk_size - 1):
            raise ValueError("chunk_size must be a power of two")
        self.chunk_size = chunk_size
        self.chunk_roots: list[bytes] = []
        self._chunk = RootBuilder()
        self.count = 0

    def add(self, leaf: bytes) -> None:
        self._chunk.add(leaf)
        self.count += 1
        if self._chunk.count == self.chunk_size:
            self.chunk_roots.append(self._chunk.root())
            self._chunk = RootBuilder()

    def finish(self) -> tuple[bytes, list[bytes]]:
        if self._chunk.count:
            self.chunk_roots.append(self._chunk.root())
            self._chunk = RootBuilder()
        return merkle_root(self.chunk_roots), self.chunk_roots


def merkle_root(leaves: Iterable[bytes]) -> bytes:
    builder = RootBuilder()
    for leaf in leaves:
        builder.add(leaf)
    return builder.root()


def expected_positions(index: int, count: int) -> list[str]:
    """The sibling sides, leaf upward, for leaf ``index`` of ``count``."""
    if not 0 <= index < count:
        raise ValueError("leaf index out of range")
    sides = []
    while count > 1:
        if index % 2:
            sides.append(LEFT)
        elif index + 1 < count:
            sides.append(RIGHT)
        index, count = index // 2, (count + 1) // 2
    return sides


def _parent_level(level: Sequence[bytes]) -> list[bytes]:
    return [node_hash(level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]


def merkle_path(nodes: Sequence[bytes], index: int) -> list[tuple[str, bytes]]:
    """Sibling path for ``nodes[index]`` up to the root of ``nodes``."""
    if not 0 <= index < len(nodes):
        raise ValueError("leaf index out of range")
    path, level = [], list(nodes)
    while len(level) > 1:
        if index % 2:
            path.append((LEFT, level[index - 1]))
        elif index + 1 < len(level):
            path.append((RIGHT, level[index + 1]))
        level, index = _parent_level(level), index // 2
    return path


def chunked_path(
    chunk_leaves: Sequence[bytes], chunk_roots: Sequence[bytes], leaf_index: int, chunk_size: int
) -> list[tuple[str, bytes]]:
    """Full path for ``leaf_index``: inside its chunk, then among chunk roots."""
    chunk_index, offset = divmod(leaf_index, chunk_size)
    return merkle_path(chunk_leaves, offset) + merkle_path(chunk_roots, chunk_index)


def root_from_path(leaf: bytes, path: Iterable[tuple[str, bytes]]) -> bytes:
    node = leaf
    for side, sibling in path:
        node = node_hash(sibling, node) if side == LEFT else node_hash(node, sibling)
    return node


def verify_proof(proof: Mapping) -> list[tuple[str, bool, str]]:
    """Checks a proof from ``GET /api/v1/transactions/{id}/proof``. Returns
    ``(check, passed, detail)`` rows; the proof holds when every row passed.
    The anchor reference itself is checked by its backend, not here."""
    checks = []

    def check(name: str, passed: bool, detail: str = "") -> bool:
        checks.append((name, bool(passed), detail))
        return passed

    version = proof.get("hash_version")
    if not check("hash version", version in HASH_TAGS, f"expects one of {sorted(HASH_TAGS)}"):
        return checks
    facts = proof.get("transaction") or {}
    missing = [name for name in FACT_FIELDS_BY_VERSION[version] if not isinstance(facts.get(name), str)]
    if check("transaction facts present", not missing, ", ".join(missing)):
        check("transaction_id is the facts' id", proof.get("transaction_id") == facts["id"], facts["id"])
        recomputed = transaction_hash(facts, version)
        check("facts hash to transaction_hash", recomputed == proof.get("transaction_hash"), recomputed)
    try:
        tx_hash = proof["transaction_hash"]
        leaf = leaf_hash(tx_hash)
        if len(bytes.fromhex(tx_hash)) != 32:
            raise ValueError("transaction_hash is not 32 bytes")
        path = [(step["position"], bytes.fromhex(step["hash"])) for step in proof["path"]]
        index, count = int(proof["leaf_index"]), int(proof["leaf_count"])
        sides = expected_positions(index, count)
        root = bytes.fromhex(proof["root_hash"])
    except (KeyError, TypeError, ValueError) as exc:
        check("proof well formed", False, str(exc))
        return checks
    check("leaf_hash = SHA-256(0x00 || transaction_hash)", leaf.hex() == proof.get("leaf_hash"), leaf.hex())
    check(
        "path sides match leaf index and count",
        [side for side, _ in path] == sides and all(len(sibling) == 32 for _, sibling in path),
        f"expected {sides}",
    )
    computed = root_from_path(leaf, path)
    check("path leads to root_hash", computed == root, computed.hex())
    return checks
