"""Events through a real JetStream server and back: the same typed Structs, on the subjects
their broker, account, kind and symbol name, with no credential on the bus."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from typing import Any

import nats
import pytest

from brokerwire.adapters.bus import Publisher, Subscriber, decode, encode, subject
from brokerwire.core.ctrader import ServerEvent, SpotEvent
from brokerwire.core.redaction import REDACTED
from tests.adapters.bus.events import SECRET, ctrader_events, secret_events, tradovate_events
from tests.adapters.bus.natsserver import NatsCluster

pytestmark = pytest.mark.timeout(60)


async def _each(events: Iterable[Any]) -> AsyncIterator[Any]:
    for event in events:
        yield event


async def _publish(urls: list[str], broker: str, account: str, events: list[Any]) -> Publisher:
    async with Publisher(urls, broker=broker, account=account, window=4) as publisher:
        await publisher.run(_each(events))
    return publisher


async def _read(urls: list[str], subject_filter: str, count: int) -> list[Any]:
    async with Subscriber(urls, subject_filter) as subscriber:
        deliveries = subscriber.deliveries()
        return [await anext(deliveries) for _ in range(count)]


def test_every_kind_comes_back_as_the_same_struct(nats_server: NatsCluster) -> None:
    tradovate, ctrader = tradovate_events(), ctrader_events()

    async def scenario() -> tuple[list[Any], list[Any]]:
        await _publish(nats_server.urls, "tradovate", "md", tradovate)
        await _publish(nats_server.urls, "ctrader", "44", ctrader)
        return (
            await _read(nats_server.urls, "brokerwire.tradovate.>", len(tradovate)),
            await _read(nats_server.urls, "brokerwire.ctrader.>", len(ctrader)),
        )

    got_tradovate, got_ctrader = asyncio.run(scenario())
    assert [d.event for d in got_tradovate] == tradovate
    assert [d.event for d in got_ctrader] == ctrader
    assert [d.subject for d in got_tradovate[:3]] == [
        "brokerwire.tradovate.md.MarketData.3570918",
        "brokerwire.tradovate.md.Chart.9",
        "brokerwire.tradovate.md.EntityChanged",
    ]
    spot = got_ctrader[0]
    assert (spot.subject, spot.broker, spot.account, spot.kind, spot.symbol) == (
        "brokerwire.ctrader.44.SpotEvent.1",
        "ctrader",
        "44",
        "SpotEvent",
        "1",
    )
    assert spot.msg_id is not None
    assert spot.msg_id.endswith(".1")


def test_no_credential_reaches_the_bus(nats_server: NatsCluster) -> None:
    """A server payload holding tokens goes out with them redacted: not in the payload, not in
    the subject, not in a header."""
    (event,) = secret_events()

    async def scenario() -> tuple[Any, list[bytes]]:
        await _publish(nats_server.urls, "ctrader", "44", [event])
        (delivery,) = await _read(nats_server.urls, "brokerwire.>", 1)
        nc = await nats.connect(nats_server.urls)
        try:
            raw = await nc.jetstream().get_last_msg("BROKERWIRE", delivery.subject)
        finally:
            await nc.close()
        headers = b"".join(f"{k}{v}".encode() for k, v in (raw.headers or {}).items())
        return delivery, [raw.data or b"", raw.subject.encode(), headers]

    delivery, raw = asyncio.run(scenario())
    assert isinstance(delivery.event, ServerEvent)
    assert delivery.event.payload == {"accessToken": REDACTED, "refreshToken": REDACTED, "kept": 1}
    assert all(SECRET.encode() not in part for part in raw)


def test_subjects_cannot_be_reshaped_by_values() -> None:
    spot = SpotEvent(ctid_trader_account_id=44, symbol_id=1, bid=1, ask=2)
    assert subject("ctrader", "ignored", spot) == "brokerwire.ctrader.44.SpotEvent.1"
    (server_event,) = secret_events()
    assert subject("ctrader", "a.b *>", server_event) == "brokerwire.ctrader.a_b___.ServerEvent"


def test_an_unknown_kind_decodes_as_json() -> None:
    assert decode("ctrader", "FutureKind", b'{"a": 1}') == {"a": 1}
    with pytest.raises(ValueError, match="does not fit"):
        decode("tradovate", "Chart", b'{"no": "charts"}')
    spot = SpotEvent(ctid_trader_account_id=1, symbol_id=2, bid=3)
    assert decode("ctrader", "SpotEvent", encode(spot)) == spot
