"""``python -m tests.core.bounds``: time and peak memory of the core at its hostile-input bounds.

Each case feeds one connection what an attacker would send and prints the wall time and the
peak of memory traced by ``tracemalloc`` while the core worked (the input itself is built
before tracing starts). The figures go into RELIABILITY.md; the tests check behaviour only.

``--case NAME`` runs one case (repeatable); ``--list`` names them.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from brokerwire.core.ctrader import CTraderConnection, PayloadType
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.helpers import server_frame

MIB = 1024 * 1024
CHUNK = 64 * 1024


def _chunks(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def _fragmented(total: int, piece: int) -> bytes:
    """A text message of ``total`` bytes in fragments of ``piece`` bytes, with its last frame."""
    out = bytearray(server_frame(0x1, b"x" * piece, fin=False))
    frame = server_frame(0x0, b"x" * piece, fin=False)
    out += frame * (total // piece - 2)
    out += server_frame(0x0, b"x" * piece)
    return bytes(out)


def _empty_continuations(count: int) -> bytes:
    return server_frame(0x1, b"x", fin=False) + server_frame(0x0, b"", fin=False) * count


def _websocket_case(data: bytes) -> Callable[[], str]:
    def run() -> str:
        conn = WebSocketConnection(Role.CLIENT, already_open=True)
        kinds: dict[str, int] = {}
        last = None
        for chunk in _chunks(data):
            for event in conn.receive_data(chunk, 0.0):
                kinds[type(event).__name__] = kinds.get(type(event).__name__, 0) + 1
                last = event
            if conn.state.value == "closed":
                break
        code = getattr(last, "code", None)
        return f"events {kinds}, close code {code}"

    return run


def _rate_queue_case(count: int) -> Callable[[], str]:
    """``count`` requests made at once (all but 50 wait for the budget), ``next_deadline`` asked
    after each, then the timers run until every request has gone out."""

    def run() -> str:
        conn = CTraderConnection.tcp(heartbeat_interval=9.0, request_timeout=None)
        now = 0.0
        for _ in range(count):
            conn.request(PayloadType.PROTO_OA_VERSION_REQ, now=now)
            conn.next_deadline()
        conn.data_to_send()
        timers = 0
        while conn.queued_requests:
            deadline = conn.next_deadline()
            assert deadline is not None
            now = max(now, deadline)
            conn.handle_timer(now)
            conn.data_to_send()
            timers += 1
        return f"all sent by t={now:g} s after {timers} timer runs"

    return run


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    build: Callable[[], Callable[[], str]]


CASES = [
    Case(
        "ws-32mib-one-frame",
        "a 32 MiB text message in one frame (for comparison)",
        lambda: _websocket_case(server_frame(0x1, b"x" * (32 * MIB - 16))),
    ),
    Case(
        "ws-32mib-512b-fragments",
        "a 32 MiB text message in 65,536 fragments of 512 bytes (the most fragments allowed)",
        lambda: _websocket_case(_fragmented(32 * MIB, 512)),
    ),
    Case(
        "ws-32mib-2b-fragments",
        "a 32 MiB text message sent in 2-byte fragments",
        lambda: _websocket_case(_fragmented(32 * MIB, 2)),
    ),
    Case(
        "ws-4mib-2b-fragments",
        "a 4 MiB text message sent in 2-byte fragments",
        lambda: _websocket_case(_fragmented(4 * MIB, 2)),
    ),
    Case(
        "ws-1m-empty-continuations",
        "a text frame without FIN, then 1,000,000 empty continuation frames",
        lambda: _websocket_case(_empty_continuations(1_000_000)),
    ),
    Case("ctrader-queue-1000", "1,000 cTrader requests at once", lambda: _rate_queue_case(1000)),
    Case("ctrader-queue-4000", "4,000 cTrader requests at once", lambda: _rate_queue_case(4000)),
    Case("ctrader-queue-20000", "20,000 cTrader requests at once", lambda: _rate_queue_case(20000)),
]


def measure(case: Case) -> tuple[float, float, str]:
    """(seconds, peak traced MiB, what happened) for one case."""
    run = case.build()
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    outcome = run()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / MIB, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.core.bounds", description=__doc__)
    parser.add_argument("--case", action="append", default=[], help="run only this case")
    parser.add_argument("--list", action="store_true", help="name the cases and stop")
    args = parser.parse_args(argv)
    if args.list:
        for case in CASES:
            print(f"{case.name}: {case.what}")
        return 0
    unknown = set(args.case) - {case.name for case in CASES}
    if unknown:
        parser.error(f"unknown case {sorted(unknown)}")
    print(f"CPython {sys.version.split()[0]}; time and peak traced memory under tracemalloc")
    for case in CASES:
        if args.case and case.name not in args.case:
            continue
        seconds, peak, outcome = measure(case)
        print(f"{case.name}: {seconds:.2f} s, peak {peak:.1f} MiB; {outcome}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
