"""``python -m benchmarks.soak``: every client at full speed for a minute, then a resource check.

Six clients run at once - Tradovate, cTrader over WebSocket and cTrader over TCP, each on the
threaded and the asyncio adapter - against simulators (each in a process of its own) streaming
as fast as the clients read
(the simulators pace by the socket, so "as fast as possible" is the highest rate there is), with
a request every 20 ms from each client. Every stream message's sequence number (a quote's
``id``, a spot's ``timestamp``) is checked: no loss, no repeat. When the clients have closed,
the process must hold the threads and file descriptors it held before they started, and no
more Python memory blocks than a small allowance; the figures are printed, and the exit status
is 1 when a check fails.

A short warm-up round runs first, so that what is allocated once per process (imports, caches,
the first event loop) is not counted as growth.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import gc
import multiprocessing
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from brokerwire.adapters import asyncio as asyncio_clients
from brokerwire.adapters import threaded as threaded_clients
from brokerwire.adapters.events import Disconnected
from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator
from brokerwire.core.ctrader import PayloadType, SpotEvent
from brokerwire.core.tradovate import MarketData

#: Faster than any client can read: the simulators then pace by the socket.
FULL_SPEED = 1_000_000.0
REQUEST_INTERVAL = 0.02
#: Python memory blocks that may remain after the clients close (loggers, interned strings).
BLOCK_ALLOWANCE = 2_000

LINKS = [("tradovate", "ws"), ("ctrader", "ws"), ("ctrader", "tcp")]
ADAPTERS = ["threaded", "asyncio"]


@dataclass
class Tally:
    """What one client saw."""

    name: str
    stopping: threading.Event
    messages: int = 0
    errors: int = 0  # a seq that was not the one before it plus one
    answered: int = 0
    failed: int = 0  # while the soak ran (requests still open when the clients close may fail)
    disconnects: int = 0
    _last: int = 0

    def count(self, event: Any) -> None:
        kind = type(event)
        if kind is MarketData:
            for quote in event.quotes:
                self._seq(quote.id)
        elif kind is SpotEvent:
            self._seq(event.timestamp)
        elif kind is Disconnected:
            self.disconnects += 1
            self._last = 0

    def _seq(self, seq: int | None) -> None:
        self.messages += 1
        if seq != self._last + 1:
            self.errors += 1
        self._last = seq if seq is not None else self._last + 1

    def settle(self, future: asyncio.Future[Any] | concurrent.futures.Future[Any]) -> None:
        """A request's outcome (a done-callback of either adapter's futures)."""
        if not future.cancelled() and future.exception() is None:
            self.answered += 1
        elif not self.stopping.is_set():
            self.failed += 1


@dataclass(frozen=True)
class Resources:
    rss_mib: float
    blocks: int
    threads: int
    descriptors: int

    @classmethod
    def now(cls) -> Resources:
        gc.collect()
        return cls(_rss_mib(), sys.getallocatedblocks(), threading.active_count(), _descriptors())


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak is the best there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _descriptors() -> int:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return -1


def _serve(broker: str, pipe: Connection) -> None:
    """In a child process: one simulator at full speed, described to the parent, until told."""
    sim: TradovateSimulator | CTraderSimulator
    if broker == "tradovate":
        sim = TradovateSimulator(quote_rate=FULL_SPEED, request_limit=1_000_000)
    else:
        sim = CTraderSimulator(spot_rate=FULL_SPEED, requests_per_second=1_000_000)
    sim.start_in_background()
    try:
        if isinstance(sim, TradovateSimulator):
            pipe.send({"ws": sim.url, "options": {"token": sim.token}, "account": None})
        else:
            credentials = {
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
                "access_token": sim.access_token,
            }
            pipe.send(
                {
                    "ws": sim.websocket_url,
                    "tcp": sim.tcp_url,
                    "options": credentials,
                    "account": sim.accounts[0],
                }
            )
        pipe.recv()
    finally:
        sim.stop_background()


class Simulators:
    """Both simulators, each in a process of its own: they then neither compete with the
    clients for the interpreter nor count in the resources measured here."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipes: dict[str, Connection] = {}
        self._processes: list[BaseProcess] = []
        self._described: dict[str, dict[str, Any]] = {}
        for broker in ("tradovate", "ctrader"):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(broker, theirs), name=f"sim-{broker}")
            self._pipes[broker] = ours
            self._processes.append(process)

    def start(self) -> None:
        for process in self._processes:
            process.start()
        for broker, pipe in self._pipes.items():
            if not pipe.poll(30):
                raise RuntimeError(f"the {broker} simulator did not start")
            self._described[broker] = pipe.recv()

    def stop(self) -> None:
        for pipe in self._pipes.values():
            with contextlib.suppress(OSError):
                pipe.send("stop")
        for process in self._processes:
            process.join(10)
            if process.is_alive():
                process.kill()
        for pipe in self._pipes.values():
            pipe.close()

    def client_options(self, broker: str, transport: str) -> tuple[str, dict[str, Any]]:
        described = self._described[broker]
        return described[transport], dict(described["options"])

    def account(self) -> int:
        return int(self._described["ctrader"]["account"])


#: The request each client makes every REQUEST_INTERVAL: (arguments, keyword arguments).
REQUESTS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "tradovate": (("contract/find",), {"body": {"name": "NQZ6"}}),
    "ctrader": ((PayloadType.PROTO_OA_VERSION_REQ,), {}),
}


def _subscribe_calls(broker: str, sims: Simulators) -> list[tuple[str, tuple[Any, ...]]]:
    """The client calls that start a stream: (method name, arguments), in order."""
    if broker == "tradovate":
        return [("subscribe_quote", ("ESZ6",))]
    account = sims.account()
    return [("authorize_account", (account,)), ("subscribe_spots", (account, 1))]


def _request(client: Any, broker: str, tally: Tally) -> None:
    args, kwargs = REQUESTS[broker]
    client.request_async(*args, **kwargs).add_done_callback(tally.settle)


def _run_threaded(
    sims: Simulators, broker: str, transport: str, stop: threading.Event, tally: Tally
) -> None:
    url, options = sims.client_options(broker, transport)
    kind: Any = (
        threaded_clients.TradovateClient
        if broker == "tradovate"
        else threaded_clients.CTraderClient
    )
    with kind(url, **options) as client:
        for method, args in _subscribe_calls(broker, sims):
            getattr(client, method)(*args)
        next_request = time.monotonic()
        while not stop.is_set():
            try:
                for event in client.events(timeout=0.1):
                    tally.count(event)
                    if time.monotonic() >= next_request or stop.is_set():
                        break
            except TimeoutError:
                pass
            if time.monotonic() >= next_request:
                next_request += REQUEST_INTERVAL
                _request(client, broker, tally)


async def _run_asyncio(
    sims: Simulators, broker: str, transport: str, stop: threading.Event, tally: Tally
) -> None:
    url, options = sims.client_options(broker, transport)
    kind: Any = (
        asyncio_clients.TradovateClient if broker == "tradovate" else asyncio_clients.CTraderClient
    )
    async with kind(url, **options) as client:
        for method, args in _subscribe_calls(broker, sims):
            await getattr(client, method)(*args)

        async def requests() -> None:
            while not stop.is_set():
                _request(client, broker, tally)
                await asyncio.sleep(REQUEST_INTERVAL)

        sender = asyncio.create_task(requests())
        try:
            async for event in client.events(timeout=0.5):
                tally.count(event)
                if stop.is_set():
                    break
        finally:
            sender.cancel()


def _asyncio_thread(
    sims: Simulators, stop: threading.Event, tallies: Sequence[Tally]
) -> threading.Thread:
    async def main() -> None:
        await asyncio.gather(
            *(
                _run_asyncio(sims, broker, transport, stop, tally)
                for (broker, transport), tally in zip(LINKS, tallies, strict=True)
            )
        )

    return threading.Thread(target=asyncio.run, args=(main(),), name="soak-asyncio")


def soak(sims: Simulators, seconds: float, report: Callable[[str], None]) -> list[Tally]:
    """Run all six clients for ``seconds``; returns what each saw."""
    stop = threading.Event()
    tallies = {
        adapter: [Tally(f"{adapter} {broker}-{transport}", stop) for broker, transport in LINKS]
        for adapter in ADAPTERS
    }
    threads = [
        threading.Thread(
            target=_run_threaded,
            args=(sims, broker, transport, stop, tally),
            name=f"soak-{broker}-{transport}",
        )
        for (broker, transport), tally in zip(LINKS, tallies["threaded"], strict=True)
    ]
    threads.append(_asyncio_thread(sims, stop, tallies["asyncio"]))
    for thread in threads:
        thread.start()
    started = time.monotonic()
    every = max(1.0, seconds / 6)
    all_tallies = tallies["threaded"] + tallies["asyncio"]
    while (elapsed := time.monotonic() - started) < seconds:
        time.sleep(min(every, seconds - elapsed))
        total = sum(t.messages for t in all_tallies)
        report(
            f"  {time.monotonic() - started:5.0f} s  {total:>11,} messages  "
            f"rss {_rss_mib():6.1f} MiB  threads {threading.active_count()}"
        )
    stop.set()
    for thread in threads:
        thread.join(30)
        if thread.is_alive():
            raise RuntimeError(f"{thread.name} did not finish")
    return all_tallies


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to soak (60)")
    parser.add_argument("--warm-up", type=float, default=3.0, help="warm-up seconds (3)")
    options = parser.parse_args(argv)

    sims = Simulators()
    try:
        sims.start()
        print(f"warm-up: {options.warm_up:g} s")
        soak(sims, options.warm_up, lambda line: None)
        before = Resources.now()
        print(f"soak: {options.seconds:g} s, six clients at full speed")
        tallies = soak(sims, options.seconds, print)
        after = Resources.now()
    finally:
        sims.stop()

    print()
    print(
        f"{'client':28} {'messages':>12} {'msg/s':>9} {'seq errors':>10} {'requests':>9} "
        f"{'failed':>7} {'drops':>6}"
    )
    for tally in tallies:
        print(
            f"{tally.name:28} {tally.messages:>12,} {tally.messages / options.seconds:>9,.0f} "
            f"{tally.errors:>10} {tally.answered:>9} {tally.failed:>7} {tally.disconnects:>6}"
        )
    print()
    print(f"{'':20} {'before':>10} {'after':>10}")
    print(f"{'resident MiB':20} {before.rss_mib:>10.1f} {after.rss_mib:>10.1f}")
    print(f"{'python blocks':20} {before.blocks:>10,} {after.blocks:>10,}")
    print(f"{'threads':20} {before.threads:>10} {after.threads:>10}")
    print(f"{'file descriptors':20} {before.descriptors:>10} {after.descriptors:>10}")

    problems = []
    if any(t.errors for t in tallies):
        problems.append("a stream lost or repeated a message")
    if any(t.failed for t in tallies):
        problems.append("a request failed while the link was up")
    if any(t.disconnects for t in tallies):
        problems.append("a client was disconnected")
    if any(t.messages == 0 or t.answered == 0 for t in tallies):
        problems.append("a client received nothing or got no answer")
    if after.threads != before.threads:
        problems.append(f"threads: {before.threads} before, {after.threads} after")
    if after.descriptors != before.descriptors:
        problems.append(f"file descriptors: {before.descriptors} before, {after.descriptors} after")
    if after.blocks - before.blocks > BLOCK_ALLOWANCE:
        problems.append(f"{after.blocks - before.blocks:,} more Python memory blocks than before")
    print()
    for problem in problems:
        print(f"FAILED: {problem}")
    if not problems:
        print("held: no loss, no repeat, threads, descriptors and memory back where they started")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
