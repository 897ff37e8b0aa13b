"""Peak memory while decoding a long stream: the decoder must not grow with what it has read.

A gigabyte of generated frames goes through one client connection in 64 KiB chunks, the events
of each chunk dropped before the next (as a program that handles them does), under
``tracemalloc``. What counts is the peak: buffers, partial frames, one chunk's events.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from typing import NamedTuple

from brokerwire.adapters.cli.decode import capture_connection

from .streams import CHUNK_SIZE, OPEN_FRAME, large, repeat_chunks, tradovate_quotes

__all__ = ["MemoryResult", "measure_memory"]

LIMIT = 64 * 1024 * 1024


class MemoryResult(NamedTuple):
    stream: str
    bytes_decoded: int
    events: int
    peak_bytes: int
    seconds: float

    @property
    def within_limit(self) -> bool:
        return self.peak_bytes < LIMIT


def _decode(name: str, block: bytes, total: int) -> MemoryResult:
    """``total`` bytes of ``block`` repeated (it holds whole frames), through one connection."""
    conn = capture_connection("tradovate", "ws")
    conn.receive_data(OPEN_FRAME, 0.0)
    events = 0
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    try:
        for chunk in repeat_chunks(block, total, CHUNK_SIZE):
            events += len(conn.receive_data(chunk, 0.0))
            conn.data_to_send()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return MemoryResult(name, total, events, peak, time.perf_counter() - started)


def measure_memory(total: int) -> list[MemoryResult]:
    """Peak traced memory for ``total`` bytes of small quote frames, and of 1 MiB messages."""
    quotes = tradovate_quotes(20_000)
    answers = large(4)
    # Without the leading "o" frame, each block is whole frames and may repeat.
    results = [_decode("tradovate-ws-quotes", quotes.data[len(OPEN_FRAME) :], total)]
    results.append(_decode("large", answers.data[len(OPEN_FRAME) :], total))
    return results
