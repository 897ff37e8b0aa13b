"""The publisher's windows against a JetStream stand-in that takes atomic batches and fails what
the test says: a window is stored whole or not at all and goes again as it was, a lost answer
makes the resend a batch of known ids (counted as duplicates, stored once), and no message is
ever stored after one taken later."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import pytest

from brokerwire.adapters.bus import Publisher
from brokerwire.core.ctrader import SpotEvent

pytestmark = pytest.mark.timeout(30)


@dataclass
class Answer:
    data: bytes


class FakeBatches:
    """A connection to a stream that stores atomic batches by message id as JetStream does.
    The commits numbered in ``refuse`` (counting from 1) are answered with an error (nothing
    stored), those in ``silent`` are stored but never answered."""

    def __init__(self, refuse: set[int] = frozenset(), silent: set[int] = frozenset()) -> None:
        self.refuse = set(refuse)
        self.silent = set(silent)
        self.stored: list[int] = []
        self.commits: list[list[int]] = []  # the numbers of each batch committed, in order
        self.batch_ids: list[str] = []
        self._open: dict[str, list[int]] = {}

    async def publish(self, subject: str, payload: bytes, headers: dict[str, str]) -> None:
        batch = self._open.setdefault(headers["Nats-Batch-Id"], [])
        assert int(headers["Nats-Batch-Sequence"]) == len(batch) + 1
        batch.append(int(headers["Nats-Msg-Id"].rsplit(".", 1)[1]))

    async def request(
        self, subject: str, payload: bytes, timeout: float, headers: dict[str, str]
    ) -> Answer:
        assert headers["Nats-Batch-Commit"] == "1"
        await self.publish(subject, payload, headers)
        batch_id = headers["Nats-Batch-Id"]
        assert batch_id not in self.batch_ids
        self.batch_ids.append(batch_id)
        numbers = self._open.pop(batch_id)
        self.commits.append(numbers)
        if len(self.commits) in self.refuse:
            return Answer(b'{"error":{"code":503,"err_code":10008,"description":"no leader"}}')
        if any(number in self.stored for number in numbers):
            error = {"code": 400, "err_code": 10201, "description": "duplicate message id"}
            return Answer(json.dumps({"error": error}).encode())
        self.stored.extend(numbers)
        if len(self.commits) in self.silent:
            raise nats.errors.TimeoutError
        return Answer(json.dumps({"stream": "BROKERWIRE", "count": len(numbers)}).encode())


async def _spots(count: int) -> AsyncIterator[Any]:
    for number in range(count):
        yield SpotEvent(ctid_trader_account_id=1, symbol_id=1, bid=number, ask=number)


def _run(fake: FakeBatches, count: int = 12) -> Publisher:
    publisher = Publisher(
        "nats://127.0.0.1:4222", broker="ctrader", account="1", window=5, ack_timeout=0.05
    )
    publisher._js = object()  # type: ignore[assignment]
    publisher._nc = fake  # type: ignore[assignment]

    async def publish() -> None:
        await publisher.run(_spots(count))

    asyncio.run(publish())
    return publisher


def test_a_refused_window_goes_again_whole_and_nothing_overtakes_it() -> None:
    fake = FakeBatches(refuse={2})
    publisher = _run(fake)
    assert fake.stored == list(range(1, 13))
    assert fake.commits[1] == fake.commits[2]  # the same messages, under a new batch id
    stats = publisher.stats
    assert (stats.stored, stats.resent, stats.duplicates, stats.buffered) == (12, 1, 0, 0)


def test_a_lost_answer_makes_the_resend_a_duplicate_stored_once() -> None:
    fake = FakeBatches(silent={1})
    publisher = _run(fake)
    assert fake.stored == list(range(1, 13))
    assert fake.commits[0] == fake.commits[1]
    stats = publisher.stats
    assert (stats.stored, stats.resent, stats.duplicates, stats.buffered) == (12, 1, 5, 0)


def test_a_window_is_at_most_what_one_atomic_batch_takes() -> None:
    with pytest.raises(ValueError, match="window"):
        Publisher("nats://127.0.0.1:4222", broker="ctrader", account="1", window=1001)
