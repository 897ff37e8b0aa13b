"""The client side of the scale benchmark: many asyncio clients in one process, each with one
subscription and a consumer task, and the bare floor on the same connections.

Every consumer checks its subscription's sequence numbers (a Tradovate quote's ``id``, a cTrader
spot's ``timestamp``: the simulators count from 1 per subscription) and, while a window is being
measured, the latency from the simulator's send stamp to itself.

The clients use ``on_full="pause"``: a full queue then stops reading and never merges updates,
so a gap in the numbers is a lost message and nothing else. (With the default ``"conflate"``, a
queue that filled would merge quotes and the merged update would carry only the newest number:
a gap that lost nothing. The consumers keep up at these rates, so neither setting should act.)

The floor: once the clients are measured, each connection's transport is handed to a bare
``asyncio.Protocol`` that only counts the bytes (``transport.set_protocol``), with the client's
timer stopped, so the floor reads the very same connections at the same offered load.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from brokerwire.adapters.asyncio import CTraderClient, TradovateClient
from brokerwire.adapters.events import Disconnected
from brokerwire.core.ctrader import SpotEvent
from brokerwire.core.tradovate import MarketData

__all__ = ["KINDS", "Fleet", "Floor", "Tally"]

#: The kinds of link, dealt out in turn: Tradovate WebSocket, cTrader WebSocket, cTrader TCP.
KINDS = ("tradovate-ws", "ctrader-ws", "ctrader-tcp")
_CONTRACTS = ("ESZ6", "NQZ6", "MESZ6", "CLZ6")
_from_iso = dt.datetime.fromisoformat


@dataclass
class Tally:
    """What the consumers saw: events, numbers out of turn, and latencies while counting."""

    delivered: int = 0
    lost: int = 0
    repeated: int = 0
    disconnects: int = 0
    closing: bool = False
    counting: bool = False
    counted: int = 0
    latencies: array[float] = field(default_factory=lambda: array("d"))

    def start(self) -> None:
        self.counted = 0
        self.latencies = array("d")
        self.counting = True

    def seen(self, expected: int, seq: int, sent: float) -> int:
        """One numbered event (``sent``: its send stamp in seconds since the epoch); returns
        the number expected next."""
        self.delivered += 1
        if seq != expected:
            if seq > expected:
                self.lost += seq - expected
            else:
                self.repeated += 1
                return expected
        if self.counting:
            self.counted += 1
            self.latencies.append(time.time() - sent)
        return seq + 1


async def _consume(client: Any, tally: Tally) -> None:
    expected = 1
    async for event in client.events():
        kind = type(event)
        if kind is MarketData:
            for quote in event.quotes:
                stamp = _from_iso(quote.timestamp).timestamp()
                expected = tally.seen(expected, quote.id, stamp)
        elif kind is SpotEvent:
            expected = tally.seen(expected, event.timestamp, event.session_close / 1e6)
        elif kind is Disconnected and not tally.closing:
            tally.disconnects += 1
            print(f"a link went down: {event.reason}", file=sys.stderr)


def _make_client(kind: str, server: dict[str, Any]) -> Any:
    options: dict[str, Any] = {"on_full": "pause", "reconnect": False, "connect_timeout": 60.0}
    if kind == "tradovate-ws":
        return TradovateClient(server["tradovate"], token=server["token"], **options)
    url = server["websocket"] if kind == "ctrader-ws" else server["tcp"]
    return CTraderClient(
        url,
        client_id=server["client_id"],
        client_secret=server["client_secret"],
        access_token=server["access_token"],
        **options,
    )


class Fleet:
    """N clients spread over the servers and the kinds of link."""

    def __init__(self, servers: list[dict[str, Any]], count: int) -> None:
        self.tally = Tally()
        self.links = [
            (KINDS[i % len(KINDS)], servers[(i // len(KINDS)) % len(servers)], i)
            for i in range(count)
        ]
        self.clients: list[Any] = []
        self.consumers: list[asyncio.Task[None]] = []

    def kinds(self) -> dict[str, int]:
        counted: dict[str, int] = dict.fromkeys(KINDS, 0)
        for kind, _, _ in self.links:
            counted[kind] += 1
        return counted

    async def connect(self, parallel: int = 50) -> None:
        """Connect and authorize every client (``parallel`` at a time), each with its consumer
        task: idle links, not subscribed yet."""
        gate = asyncio.Semaphore(parallel)

        async def one(kind: str, server: dict[str, Any]) -> Any:
            async with gate:
                client = _make_client(kind, server)
                await client.connect()
                if kind != "tradovate-ws":
                    await client.authorize_account(server["account"])
                return client

        self.clients = list(
            await asyncio.gather(*(one(kind, server) for kind, server, _ in self.links))
        )
        loop = asyncio.get_running_loop()
        self.consumers = [loop.create_task(_consume(c, self.tally)) for c in self.clients]

    async def subscribe(self, parallel: int = 100) -> int:
        """Subscribe every client; returns how many subscriptions failed (a link that went down
        meanwhile, on a machine too busy for its servers)."""
        gate = asyncio.Semaphore(parallel)

        async def one(client: Any, kind: str, server: dict[str, Any], index: int) -> None:
            async with gate:
                if kind == "tradovate-ws":
                    await client.subscribe_quote(_CONTRACTS[index % len(_CONTRACTS)])
                else:
                    await client.subscribe_spots(server["account"], 1)

        outcomes = await asyncio.gather(
            *(
                one(client, kind, server, index)
                for client, (kind, server, index) in zip(self.clients, self.links, strict=True)
            ),
            return_exceptions=True,
        )
        return sum(isinstance(outcome, Exception) for outcome in outcomes)

    def hand_over(self) -> Floor:
        """Give every connection to the floor: a bare protocol counting bytes."""
        floor = Floor()
        for client in self.clients:
            protocol = client._protocol
            if protocol is None:
                continue  # a link that went down (the consumer counted its Disconnected)
            if client._timer is not None:
                client._timer.cancel()
                client._timer = None
            floor.take(protocol.transport, protocol.connection_lost)
        return floor

    async def close(self) -> None:
        """Drop every connection and stop every client and consumer."""
        self.tally.closing = True
        for client in self.clients:
            protocol = client._protocol
            if protocol is not None and protocol.transport is not None:
                protocol.transport.abort()
        await asyncio.sleep(0)
        await asyncio.gather(*(c.close() for c in self.clients), return_exceptions=True)
        for task in self.consumers:
            task.cancel()
        await asyncio.gather(*self.consumers, return_exceptions=True)


class _Counting(asyncio.Protocol):
    """The floor's protocol: counts reads and bytes, and nothing more."""

    __slots__ = ("floor", "lost")

    def __init__(self, floor: Floor, lost: Callable[[Exception | None], None]) -> None:
        self.floor = floor
        self.lost = lost

    def data_received(self, data: bytes) -> None:
        floor = self.floor
        floor.reads += 1
        floor.bytes += len(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost(exc)  # the client that owned the connection hears that it ended


class Floor:
    """Reads and bytes of every connection the floor took."""

    def __init__(self) -> None:
        self.reads = 0
        self.bytes = 0

    def take(self, transport: asyncio.Transport, lost: Callable[[Exception | None], None]) -> None:
        transport.set_protocol(_Counting(self, lost))
        if not transport.is_reading():
            transport.resume_reading()
