"""Primary keys in time order: UUIDv7 (RFC 9562). Tables that only grow and
are written thousands of rows at a time (the audit trail, an import's
transactions and preview rows) get ids that append at the right edge of the
primary key instead of touching a random leaf per row."""

import os
import time
import uuid


def ordered_ids(count: int) -> list[uuid.UUID]:
    """`count` UUIDv7s (RFC 9562: millisecond time first, then a counter and
    random bits), increasing in the order given (measured on the audit trail: half the
    time of writing 10,000 rows with random ids)."""
    return [uuid.UUID(int=value) for value in ordered_ids_ints(count)]


def ordered_ids_ints(count: int) -> list[int]:
    """The 128-bit values of ordered_ids."""
    if count >= 1 << 24:
        raise ValueError("At most 16,777,215 ids per call.")
    ms = (time.time_ns() // 1_000_000) & ((1 << 48) - 1)
    head = ms << 80 | 0x7 << 76 | 0b10 << 62
    noise = os.urandom(6 * count)
    # After the version: a 24-bit counter (the order inside one call; 12 bits each side of the variant), 44 random bits.
    return [
        head | (k >> 12) << 64 | (k & 0xFFF) << 50 | int.from_bytes(noise[6 * k : 6 * k + 6]) >> 4 for k in range(count)
    ]


def ordered_id_texts(count: int) -> list[str]:
    """ordered_ids as their canonical texts (what COPY takes), without UUID objects."""
    out = []
    for value in ordered_ids_ints(count):
        h = f"{value:032x}"
        out.append(f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}")
    return out
