"""Deliveries that the server counts as made but that never reach the reader (a node that
carried them died, a connection dropped): the reader notices the gap in the consumer's
numbering, acknowledges nothing past it, and reads again from the last event it gave, so it
still gets every event once, in order, without waiting for the server's ack wait."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest

from brokerwire.adapters.bus import Publisher, Subscriber
from brokerwire.core.ctrader import SpotEvent
from tests.adapters.bus.natsserver import NatsCluster

pytestmark = pytest.mark.timeout(60)

EVENTS = 40


async def _spots() -> AsyncIterator[Any]:
    for number in range(EVENTS):
        yield SpotEvent(ctid_trader_account_id=44, symbol_id=1 + number % 2, bid=number, ask=number)


async def _lose(urls: list[str], consumer: str, count: int) -> list[int]:
    """Take ``count`` deliveries of ``consumer`` elsewhere and drop them, as a network would:
    the server counts them delivered. Returns their stream sequences."""
    nc = await nats.connect(urls)
    try:
        inbox = nc.new_inbox()
        queue: asyncio.Queue[nats.aio.msg.Msg] = asyncio.Queue()

        async def keep(msg: nats.aio.msg.Msg) -> None:
            await queue.put(msg)

        await nc.subscribe(inbox, cb=keep)
        body = json.dumps({"batch": count, "expires": 2_000_000_000}).encode()
        await nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.BROKERWIRE.{consumer}", body, reply=inbox)
        lost = []
        for _ in range(count):
            msg = await asyncio.wait_for(queue.get(), 5.0)
            lost.append(msg.metadata.sequence.stream)
        return lost
    finally:
        await nc.close()


@pytest.mark.parametrize("durable", ["audit", None])
def test_deliveries_lost_on_the_way_are_read_again_in_order(
    nats_server: NatsCluster, durable: str | None
) -> None:
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        async with Publisher(nats_server.urls, broker="ctrader", account="44", window=8) as pub:
            await pub.run(_spots())
        async with Subscriber(
            nats_server.urls, "brokerwire.ctrader.>", durable=durable, batch=10
        ) as sub:
            deliveries = sub.deliveries(idle=2.0)
            first = [(await anext(deliveries)).event.bid for _ in range(10)]
            name = sub._consumer_name
            assert name is not None
            lost = await _lose(nats_server.urls, name, 5)
            rest = [delivery.event.bid async for delivery in deliveries]
        return first, lost, rest

    first, lost, rest = asyncio.run(scenario())
    assert lost == [11, 12, 13, 14, 15]
    assert first + rest == list(range(EVENTS))


def test_a_durable_consumer_left_with_unacknowledged_deliveries_starts_after_the_acked(
    nats_server: NatsCluster,
) -> None:
    """A reader that went with deliveries in flight: the next one reads them, not past them."""

    async def scenario() -> tuple[list[int], list[int]]:
        async with Publisher(nats_server.urls, broker="ctrader", account="44", window=8) as pub:
            await pub.run(_spots())
        async with Subscriber(nats_server.urls, durable="desk", batch=10) as sub:
            deliveries = sub.deliveries()
            first = [(await anext(deliveries)).event.bid for _ in range(10)]
        lost = await _lose(nats_server.urls, "desk", 5)
        async with Subscriber(nats_server.urls, durable="desk", batch=10) as sub:
            rest = [delivery.event.bid async for delivery in sub.deliveries(idle=2.0)]
        return first + rest, lost

    read, lost = asyncio.run(scenario())
    assert lost == [11, 12, 13, 14, 15]
    assert read == list(range(EVENTS))
