"""A message that does not decode, between good events on a real JetStream server: the reader
gives it in its place, as it came and with the reason, and goes on; a durable reader that stops
right after it and starts again loses nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest

from brokerwire.adapters.bus import Delivery, Publisher, Subscriber, encode
from brokerwire.core.ctrader import SpotEvent
from tests.adapters.bus.natsserver import NatsCluster
from tests.adapters.cli.helpers import json_lines, run_cli

pytestmark = pytest.mark.timeout(60)

#: Payloads that are not their subject's event, published between good events.
BAD = [
    ("brokerwire.ctrader.44.SpotEvent.1", b"\xffnot json"),
    ("brokerwire.ctrader.44.SpotEvent.1", b'{"symbolId": "one"}'),
    ("brokerwire.ctrader.44", b'{"a": 1}'),
]


def _spot(number: int) -> SpotEvent:
    return SpotEvent(ctid_trader_account_id=44, symbol_id=1, bid=number, ask=number)


async def _spots(numbers: range) -> AsyncIterator[Any]:
    for number in numbers:
        yield _spot(number)


async def _publish(urls: list[str]) -> None:
    """Two good events, each bad payload followed by a good event."""
    async with Publisher(urls, broker="ctrader", account="44", window=4) as publisher:
        await publisher.run(_spots(range(2)))
    nc = await nats.connect(urls)
    try:
        js = nc.jetstream()
        for number, (subject, payload) in enumerate(BAD, start=2):
            await js.publish(subject, payload)
            await js.publish("brokerwire.ctrader.44.SpotEvent.1", encode(_spot(number)))
    finally:
        await nc.close()


def _shown(delivery: Delivery) -> Any:
    return delivery.event.bid if delivery.reason is None else (delivery.event, delivery.kind)


EXPECTED: list[Any] = [
    0,
    1,
    (b"\xffnot json", "SpotEvent"),
    2,
    ({"symbolId": "one"}, "SpotEvent"),
    3,
    ({"a": 1}, ""),
    4,
]


def test_a_payload_that_does_not_decode_comes_raw_in_its_place(nats_server: NatsCluster) -> None:
    async def scenario() -> list[Delivery]:
        await _publish(nats_server.urls)
        async with Subscriber(nats_server.urls) as subscriber:
            return [delivery async for delivery in subscriber.deliveries(idle=1.0)]

    got = asyncio.run(scenario())
    assert [_shown(delivery) for delivery in got] == EXPECTED
    assert [delivery.sequence for delivery in got] == list(range(1, 9))
    reasons = [delivery.reason for delivery in got if delivery.reason is not None]
    assert len(reasons) == 3
    assert "SpotEvent" in reasons[0]
    assert "symbolId" in reasons[1]
    assert reasons[2] == "not a brokerwire subject: 'brokerwire.ctrader.44'"


def test_a_durable_reader_stopping_at_a_bad_payload_loses_nothing(
    nats_server: NatsCluster,
) -> None:
    async def scenario() -> tuple[list[Delivery], list[Delivery], list[Delivery]]:
        await _publish(nats_server.urls)
        async with Subscriber(nats_server.urls, durable="desk", batch=2) as subscriber:
            deliveries = subscriber.deliveries()
            first = [await anext(deliveries) for _ in range(3)]  # the last one is bad
        async with Subscriber(nats_server.urls, durable="desk", batch=2) as subscriber:
            rest = [delivery async for delivery in subscriber.deliveries(idle=1.0)]
        async with Subscriber(nats_server.urls, durable="desk") as subscriber:
            after = [delivery async for delivery in subscriber.deliveries(idle=0.5)]
        return first, rest, after

    first, rest, after = asyncio.run(scenario())
    assert first[-1].reason is not None
    assert [_shown(delivery) for delivery in first + rest] == EXPECTED
    assert after == []


def test_the_command_prints_a_bad_payload_with_its_reason(nats_server: NatsCluster) -> None:
    asyncio.run(_publish(nats_server.urls))
    result = run_cli("subscribe", nats_server.urls[0], "--idle", "1", "--durable", "desk")
    assert result.returncode == 0, result.stderr
    lines = json_lines(result.stdout)
    assert [line.get("bid") for line in lines] == [0, 1, None, 2, None, 3, None, 4]
    bad = [line for line in lines if "reason" in line]
    assert [(line["type"], line["subject"], line["data"]) for line in bad] == [
        ("SpotEvent", BAD[0][0], BAD[0][1].hex()),
        ("SpotEvent", BAD[1][0], {"symbolId": "one"}),
        ("", BAD[2][0], {"a": 1}),
    ]
    assert "does not fit" in bad[0]["reason"]
    again = run_cli("subscribe", nats_server.urls[0], "--idle", "0.5", "--durable", "desk")
    assert (again.returncode, again.stdout) == (0, "")
