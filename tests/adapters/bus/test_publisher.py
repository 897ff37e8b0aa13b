"""The publisher's windows against a JetStream stand-in that loses what the test says: a lost
ack is resent under the same id and dropped as a duplicate, a failure is followed by one
message at a time, and a message that was never stored while later ones were is counted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.js.api import PubAck

from brokerwire.adapters.bus import Publisher
from brokerwire.core.ctrader import SpotEvent

pytestmark = pytest.mark.timeout(30)


class FakeJetStream:
    """Stores by message id as JetStream does; ``drop`` are never stored the first time they
    come, ``lose_ack`` are stored but their first ack never comes."""

    def __init__(self, drop: set[int] = frozenset(), lose_ack: set[int] = frozenset()) -> None:
        self.drop = set(drop)
        self.lose_ack = set(lose_ack)
        self.stored: list[int] = []
        self.sent: list[int] = []

    async def publish_async(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> asyncio.Future[PubAck]:
        number = int(headers["Nats-Msg-Id"].rsplit(".", 1)[1])
        self.sent.append(number)
        answer: asyncio.Future[PubAck] = asyncio.get_running_loop().create_future()
        if number in self.drop:
            self.drop.discard(number)
            return answer
        duplicate = number in self.stored
        if not duplicate:
            self.stored.append(number)
        if number in self.lose_ack:
            self.lose_ack.discard(number)
            return answer
        answer.set_result(PubAck(stream="BROKERWIRE", seq=len(self.stored), duplicate=duplicate))
        return answer


async def _spots(count: int) -> AsyncIterator[Any]:
    for number in range(count):
        yield SpotEvent(ctid_trader_account_id=1, symbol_id=1, bid=number, ask=number)


def _run(fake: FakeJetStream, count: int = 12) -> Publisher:
    publisher = Publisher(
        "nats://127.0.0.1:4222", broker="ctrader", account="1", window=5, ack_timeout=0.05
    )
    publisher._js = fake  # type: ignore[assignment]

    async def publish() -> None:
        await publisher.run(_spots(count))

    asyncio.run(publish())
    return publisher


def test_a_lost_ack_is_resent_and_dropped_as_a_duplicate() -> None:
    fake = FakeJetStream(lose_ack={3})
    publisher = _run(fake)
    assert fake.stored == list(range(1, 13))
    # the first window, then #3 alone (probing), then the rest of the window and on
    assert fake.sent[:6] == [1, 2, 3, 4, 5, 3]
    stats = publisher.stats
    assert (stats.stored, stats.resent, stats.out_of_order) == (12, 1, 0)
    assert stats.duplicates == 3  # 3, 4 and 5 came again
    assert stats.buffered == 0


def test_a_message_stored_after_a_later_one_is_counted() -> None:
    """What the probing makes rare (a cluster storing again in the middle of a window) is not
    hidden when it happens."""
    fake = FakeJetStream(drop={3})
    publisher = _run(fake)
    assert fake.stored[:5] == [1, 2, 4, 5, 3]
    assert sorted(fake.stored) == list(range(1, 13))
    assert publisher.stats.out_of_order == 1
    assert publisher.stats.stored == 12
