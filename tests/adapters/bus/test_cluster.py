"""100,000 events through a three-node JetStream cluster while one node is killed and started
again and while the publisher's own connection is cut: a durable consumer, reading all the
while, gets each event once, in order per subject.

The events are real ``MarketData`` Structs of three contracts, made here rather than read
from a simulator through a client (that path is the backpressure test's): what is tested is the
bus, and a source that costs next to nothing leaves the machine's time to the cluster."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import nats
import pytest

from brokerwire.adapters.bus import Delivery, Publisher, Subscriber, subject
from brokerwire.core.tradovate import MarketData
from tests.adapters.bus.natsserver import NatsCluster
from tests.adapters.bus.proxy import CuttingProxy

EVENTS = 100_000
#: Stored counts at which the test strikes: kill a node, start it again, cut the reader's
#: connection (deliveries in flight are lost on the way), cut the publisher's.
KILL_AT, RESTART_AT, READER_CUT_AT, CUT_AT = 20_000, 40_000, 52_000, 65_000


async def _until(condition: Callable[[], bool], what: str, limit: float = 120.0) -> None:
    """Wait (bounded) until ``condition`` holds."""
    for _ in range(int(limit / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def _stream_leader(cluster: NatsCluster) -> str:
    nc = await nats.connect(cluster.urls)
    try:
        info = await nc.jetstream().stream_info("BROKERWIRE")
        assert info.cluster is not None
        assert info.cluster.leader is not None
        return info.cluster.leader
    finally:
        await nc.close()


async def _strike(
    cluster: NatsCluster, publisher: Publisher, proxy: CuttingProxy, reader: CuttingProxy
) -> list[str]:
    """Kill the stream's leader, start it again, then cut the reader's connection and the
    publisher's."""
    stats = publisher.stats
    done = []
    await _until(lambda: stats.stored >= KILL_AT, "the first events stored")
    leader = await _stream_leader(cluster)
    node = next(node for node in cluster.nodes if node.name == leader)
    await asyncio.to_thread(node.kill)
    done.append(f"killed {leader}")
    await _until(lambda: stats.stored >= RESTART_AT, "events stored with a node down")
    await asyncio.to_thread(cluster.restart, node)
    done.append(f"restarted {leader}")
    await _until(lambda: stats.stored >= READER_CUT_AT, "events stored after the restart")
    reader.cut()
    done.append("cut the reader's connection")
    await _until(lambda: stats.stored >= CUT_AT, "events stored after the reader's cut")
    proxy.cut()
    done.append("cut the publisher's connection")
    return done


class Expected:
    """The events taken from the client, per subject, in order, until a reader matches them."""

    def __init__(self) -> None:
        self.stream_made = asyncio.Event()
        self.taken = 0
        self.subjects: dict[str, deque[Any]] = defaultdict(deque)

    def add(self, event: Any) -> None:
        self.taken += 1
        self.subjects[subject("tradovate", "md", event)].append(event)

    def match(self, delivery: Delivery) -> str | None:
        """None when ``delivery`` is the next event of its subject; otherwise what it is."""
        waiting = self.subjects[delivery.subject]
        if not waiting:
            return f"{delivery.msg_id} #{delivery.sequence}: no event of its subject is due"
        due = waiting.popleft()
        if due == delivery.event:
            return None
        return f"{delivery.msg_id} #{delivery.sequence}: {delivery.event!r} where {due!r} is due"


def _quote(number: int) -> MarketData:
    """The ``number``-th quote update, of one of three contracts in turn; prices and sizes
    vary with the number, so that each event of a subject differs from the one before."""
    return msgspec.convert(
        {
            "quotes": [
                {
                    "contractId": 3570918 + number % 3,
                    "timestamp": "2026-12-07T10:42:07.311Z",
                    "entries": {
                        "Bid": {"price": 6000.25 + number // 3 * 0.25, "size": number % 97},
                        "Offer": {"price": 6000.5 + number // 3 * 0.25, "size": 1 + number % 89},
                    },
                    "id": 1,
                }
            ],
        },
        MarketData,
    )


async def _market_data(expected: Expected) -> AsyncIterator[Any]:
    for number in range(EVENTS):
        event = _quote(number)
        expected.add(event)
        yield event
        if number % 100 == 0:
            await asyncio.sleep(0)  # let the reader and the strikes run between events


async def _publish(
    cluster: NatsCluster, expected: Expected, reader: CuttingProxy
) -> tuple[Publisher, list[str]]:
    proxy = CuttingProxy([node.port for node in cluster.nodes])
    await proxy.start()
    try:
        async with Publisher(
            [proxy.url],
            broker="tradovate",
            account="md",
            replicas=3,
            window=1_000,
            max_buffered=8_000,
            ack_timeout=1.0,
        ) as publisher:
            expected.stream_made.set()
            loop = asyncio.get_running_loop()
            strike = loop.create_task(_strike(cluster, publisher, proxy, reader))
            await publisher.run(_market_data(expected))
            done = await strike
        return publisher, done
    finally:
        await proxy.stop()


async def _read(proxy: CuttingProxy, expected: Expected) -> tuple[int, list[Any]]:
    """Read the stream through a durable consumer while it is being published, checking each
    delivery against the next event taken for its subject; returns how many matched, and what
    came beyond them."""
    matched = 0
    await expected.stream_made.wait()
    async with Subscriber([proxy.url], "brokerwire.tradovate.>", durable="audit", batch=500) as sub:
        deliveries = sub.deliveries()
        while matched < EVENTS:
            delivery = await anext(deliveries)
            assert expected.match(delivery) is None
            matched += 1
        await deliveries.aclose()
        extra = [delivery async for delivery in sub.deliveries(idle=1.0)]
    return matched, extra


@pytest.mark.timeout(300)
def test_every_event_once_in_order_through_a_node_crash_and_cut_links(
    nats_cluster: NatsCluster,
) -> None:
    expected = Expected()

    async def scenario() -> tuple[Publisher, list[str], int, list[Any], int]:
        reader = CuttingProxy([node.port for node in nats_cluster.nodes])
        await reader.start()
        try:
            reading = asyncio.get_running_loop().create_task(_read(reader, expected))
            publisher, done = await _publish(nats_cluster, expected, reader)
            matched, extra = await reading
        finally:
            await reader.stop()
        nc = await nats.connect(nats_cluster.urls)
        try:
            stored = (await nc.jetstream().stream_info("BROKERWIRE")).state.messages
        finally:
            await nc.close()
        return publisher, done, matched, extra, stored

    publisher, done, matched, extra, stored = asyncio.run(scenario())
    assert len(done) == 4, done
    assert expected.taken == EVENTS
    assert publisher.stats.stored == EVENTS
    assert publisher.stats.resent >= 1  # the strikes did fail some windows
    assert stored == EVENTS  # JetStream dropped every resent copy
    assert matched == EVENTS
    assert extra == []
    assert len(expected.subjects) == 3
    assert all(not waiting for waiting in expected.subjects.values())
