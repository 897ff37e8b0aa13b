"""JetStream away: the publisher's buffer fills to its bound, it stops taking events, the
client's queue fills and the broker link stops reading; when JetStream is back, every event
arrives, once and in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from brokerwire.adapters.asyncio import TradovateClient
from brokerwire.adapters.bus import Publisher, Subscriber, encode
from brokerwire.adapters.simulators import TradovateSimulator
from brokerwire.core.tradovate import MarketData
from tests.adapters.bus.natsserver import NatsCluster

EVENTS = 4_000
MAX_BUFFERED = 300
MAX_BUFFERED_BYTES = 48 * 1024
CLIENT_QUEUE = 100


async def _until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def _market_data(client: TradovateClient, taken: list[Any]) -> AsyncIterator[Any]:
    async for event in client.events():
        if isinstance(event, MarketData):
            taken.append(event)
            yield event
            if len(taken) == EVENTS:
                return


@pytest.mark.timeout(120)
def test_jetstream_away_pauses_the_link_and_loses_nothing(nats_server: NatsCluster) -> None:
    node = nats_server.nodes[0]
    taken: list[Any] = []
    seen: dict[str, Any] = {}

    async def scenario() -> tuple[Publisher, list[Any]]:
        with TradovateSimulator(quote_rate=2_000.0) as sim:
            async with (
                TradovateClient(
                    sim.url, token=sim.token, on_full="pause", max_queued_events=CLIENT_QUEUE
                ) as client,
                Publisher(
                    nats_server.urls,
                    broker="tradovate",
                    account="md",
                    window=50,
                    max_buffered=MAX_BUFFERED,
                    max_buffered_bytes=MAX_BUFFERED_BYTES,
                    ack_timeout=0.5,
                ) as publisher,
            ):
                loop = asyncio.get_running_loop()
                publishing = loop.create_task(publisher.run(_market_data(client, taken)))
                await client.subscribe_quote("ESZ6")
                await _until(lambda: publisher.stats.stored >= 500, "the first events stored")
                await asyncio.to_thread(node.kill)
                buffer = publisher.buffer
                await _until(lambda: buffer.full, "the publisher's buffer full")
                await _until(lambda: client._reading_paused, "the client's reading paused")
                seen["taken while away"] = (len(taken), publisher.stats.taken)
                seen["stored while away"] = publisher.stats.stored
                # The publisher goes on trying to send while JetStream is away: three failed
                # windows later it has still taken nothing more from the client, whose queue
                # stays full and whose link stays paused.
                resent = publisher.stats.resent
                await _until(lambda: publisher.stats.resent >= resent + 3, "windows sent again")
                seen["taken later"] = (len(taken), publisher.stats.taken)
                seen["buffer still full"] = buffer.full
                seen["client queue"] = (len(client._buffer), client._buffer.full)
                seen["still paused"] = client._paused and client._reading_paused
                await asyncio.to_thread(nats_server.restart, node)
                await publishing
        async with Subscriber(nats_server.urls, "brokerwire.>", durable="after") as subscriber:
            deliveries = subscriber.deliveries()
            got = [(await anext(deliveries)).event for _ in range(EVENTS)]
            got += [d.event async for d in subscriber.deliveries(idle=0.5)]
        return publisher, got

    publisher, got = asyncio.run(scenario())
    assert seen["taken later"] == seen["taken while away"]
    assert seen["buffer still full"]
    assert seen["still paused"]
    queued, queue_full = seen["client queue"]
    assert queue_full
    assert 0 < queued <= 2 * CLIENT_QUEUE  # one read's events may pass the bound
    assert seen["stored while away"] < EVENTS
    assert got == taken
    assert len(taken) == EVENTS
    buffer = publisher.buffer
    assert buffer.peak_messages <= MAX_BUFFERED
    largest = max(len(encode(event)) for event in taken)
    assert buffer.peak_bytes < MAX_BUFFERED_BYTES + largest
    assert publisher.stats.stored == EVENTS
