"""Memory: the decoder must not grow with what it has read, and what it delivers stays small.

Peak: a gigabyte of generated frames goes through one client connection in 64 KiB chunks, the
events of each chunk dropped before the next (as a program that handles them does), under
``tracemalloc``. What counts is the peak: buffers, partial frames, one chunk's events.

Retained: a program that keeps what it was handed (a quote history, say) pays for each event
as long as it keeps it. The bytes left allocated per kept quote event are measured for
brokerwire's typed event and for the dicts orjson makes of the same message.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, NamedTuple

from brokerwire.adapters.cli.decode import capture_connection
from brokerwire.core import tradovate

from .floors import HAVE_ORJSON
from .streams import CHUNK_SIZE, OPEN_FRAME, large, repeat_chunks, tradovate_quotes

if HAVE_ORJSON:
    import orjson

__all__ = ["LIMIT", "MemoryResult", "Retention", "measure_memory", "measure_retention"]

LIMIT = 32 * 1024 * 1024


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


class Retention(NamedTuple):
    """Bytes left allocated per quote event kept, in each form."""

    events: int
    typed_bytes: float  # brokerwire's event
    dict_bytes: float  # the message's ``d`` object as ``dict_library`` decodes it
    dict_library: str


def _retained(produce: Callable[[], list[Any]]) -> tuple[int, float]:
    """How many objects ``produce`` returns and the traced bytes each holds, the list aside."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        kept = produce()
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    held = after - before - sys.getsizeof(kept)
    return len(kept), held / len(kept)


def measure_retention(count: int) -> Retention:
    """Keep every event of ``count`` quote frames, then the dicts of the same messages."""
    workload = tradovate_quotes(count)
    stream = workload.data[len(OPEN_FRAME) :]
    conn = capture_connection("tradovate", "ws")
    conn.receive_data(OPEN_FRAME, 0.0)

    def typed() -> list[Any]:
        kept = []
        # The chunks are made while traced: an event that holds on to its chunk pays for it.
        for chunk in repeat_chunks(stream, len(stream), CHUNK_SIZE):
            kept += [e for e in conn.receive_data(chunk, 0.0) if type(e) is tradovate.MarketData]
        return kept

    loads: Callable[[bytes], Any] = orjson.loads if HAVE_ORJSON else json.loads
    events, typed_bytes = _retained(typed)
    # What a program keeps of a message it decoded itself: its data, the envelope dropped.
    dicts, dict_bytes = _retained(lambda: [loads(p)[0]["d"] for p in workload.payloads])
    assert events == dicts == count, (events, dicts, count)
    return Retention(count, typed_bytes, dict_bytes, "orjson" if HAVE_ORJSON else "json")
