"""Byte-level mutations of seed inputs, shared by the hypothesis tests and the fuzz runner."""

from __future__ import annotations

import random
from collections.abc import Sequence

#: Bytes that matter to the decoders: frame opcodes and length markers, JSON structure, the
#: letters of Tradovate frames, line breaks of HTTP heads and request documents.
INTERESTING = b'\x00\x01\x02\x08\x09\x0a\x7e\x7f\x80\x81\x88\x89\x8a\xff{}[]":,\\ \r\nacho'


def mutate(rng: random.Random, data: bytes, corpus: Sequence[bytes] = ()) -> bytes:
    """``data`` changed by one to four random edits (flip, insert, delete, repeat, splice)."""
    buffer = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(7)
        size = len(buffer)
        if choice == 0 and size:
            buffer[rng.randrange(size)] ^= 1 << rng.randrange(8)
        elif choice == 1:
            buffer.insert(rng.randint(0, size), rng.choice(INTERESTING))
        elif choice == 2 and size:
            start = rng.randrange(size)
            del buffer[start : start + rng.randint(1, 16)]
        elif choice == 3 and size:
            start = rng.randrange(size)
            piece = buffer[start : start + rng.randint(1, 64)]
            buffer[start:start] = piece * rng.randint(1, 8)
        elif choice == 4 and corpus:
            other = rng.choice(corpus)
            cut = rng.randint(0, size)
            buffer[cut:] = other[rng.randint(0, len(other)) :]
        elif choice == 5 and size:
            del buffer[rng.randint(0, size) :]
        else:
            buffer[rng.randint(0, size) : rng.randint(0, size)] = rng.randbytes(rng.randint(1, 8))
    return bytes(buffer)
