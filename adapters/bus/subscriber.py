"""Read the bus back as typed events, through a durable JetStream consumer.

``Subscriber(servers, "brokerwire.ctrader.>", durable="risk")`` reads the stream from where the
durable consumer ``risk`` left off (the server keeps that place across restarts of the reader),
each message decoded into the Struct its subject names: the very ``SpotEvent`` or
``MarketData`` the publishing gateway's client yielded.

Acknowledgement is cumulative (``AckPolicy.ALL``): when the reader asks for the next batch, the
last message it was given is acknowledged, and with it every earlier one. A message the server
delivers again (an ack lost while a node was down) is recognised by its stream sequence and
skipped, so one reader of a durable consumer sees each event once, in the stream's order. What
a reader fetched but did not take is handed back on ``close()``; a reader that stops without it
has those messages delivered again to the next once the server's ack wait is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Self

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from brokerwire.core.errors import LocalProtocolError

from .codec import decode
from .connection import DEFAULT_STREAM, connect

__all__ = ["Delivery", "Subscriber"]

log = logging.getLogger("brokerwire.bus")

#: Seconds one fetch waits for messages before the reader looks at its own deadline.
_FETCH_WAIT = 1.0
#: Seconds to wait for JetStream to make the consumer while a cluster elects its leader.
_READY_TIMEOUT = 30.0
#: Seconds between two tries while JetStream does not answer (a node down, a leader elected).
_RETRY_WAIT = 0.25


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event read from the bus, with where it came from."""

    subject: str
    broker: str
    account: str
    kind: str
    symbol: str | None
    event: Any  #: the typed Struct (decoded JSON for a kind this version does not know)
    msg_id: str | None  #: the publisher's message id
    sequence: int  #: the message's sequence in the stream


def _delivery(msg: Msg) -> Delivery:
    parts = msg.subject.split(".", 4)
    if len(parts) < 4:
        raise ValueError(f"not a brokerwire subject: {msg.subject!r}")
    broker, account, kind = parts[1], parts[2], parts[3]
    symbol = parts[4] if len(parts) > 4 else None
    headers = msg.headers or {}
    return Delivery(
        subject=msg.subject,
        broker=broker,
        account=account,
        kind=kind,
        symbol=symbol,
        event=decode(broker, kind, msg.data),
        msg_id=headers.get("Nats-Msg-Id"),
        sequence=msg.metadata.sequence.stream,
    )


class Subscriber:
    """A durable pull consumer on ``subject`` (``durable`` None: one that the server forgets
    when the reader goes). ``deliver`` is where a new consumer starts: ``"all"`` (the stream's
    first message) or ``"new"`` (what is published from now on)."""

    def __init__(
        self,
        servers: str | Sequence[str],
        subject: str = "brokerwire.>",
        *,
        durable: str | None = None,
        stream: str = DEFAULT_STREAM,
        deliver: Literal["all", "new"] = "all",
        batch: int = 256,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.subject = subject
        self.durable = durable
        self.stream = stream
        self._servers = servers
        self._deliver = DeliverPolicy.ALL if deliver == "all" else DeliverPolicy.NEW
        self._batch = batch
        self._nc: NATS | None = None
        self._sub: JetStreamContext.PullSubscription | None = None
        self._unacked: Msg | None = None
        self._fetched: deque[Msg] = deque()
        self._last_sequence = 0

    def __repr__(self) -> str:
        return f"<Subscriber {self.subject} durable={self.durable}>"

    async def connect(self) -> Self:
        self._nc = await connect(self._servers, name=f"brokerwire-{self.durable or 'reader'}")
        js = self._nc.jetstream()
        config = ConsumerConfig(
            ack_policy=AckPolicy.ALL,
            deliver_policy=self._deliver,
            max_ack_pending=max(1000, 4 * self._batch),
        )
        deadline = time.monotonic() + _READY_TIMEOUT
        try:
            while self._sub is None:
                try:
                    self._sub = await js.pull_subscribe(
                        self.subject, durable=self.durable, stream=self.stream, config=config
                    )
                except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(_RETRY_WAIT)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        """Acknowledge what was read, hand back what was fetched but not read (the next reader
        gets it at once), and disconnect."""
        with contextlib.suppress(nats.errors.Error, OSError):
            await self._ack()
            while self._fetched:
                await self._fetched.popleft().nak()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _ack(self) -> None:
        """Acknowledge the last message given (and every earlier one); one whose ack cannot
        go now is acknowledged with the next."""
        msg = self._unacked
        if msg is not None:
            await msg.ack()
            self._unacked = None

    async def deliveries(self, idle: float | None = None) -> AsyncIterator[Delivery]:
        """Each event of the stream in order, once; ends after ``idle`` seconds without one
        (None: never)."""
        sub = self._sub
        if sub is None:
            raise LocalProtocolError("connect() first")
        waited = 0.0
        while idle is None or waited < idle:
            wait = _FETCH_WAIT if idle is None else min(_FETCH_WAIT, idle - waited)
            try:
                await self._ack()
                msgs = await sub.fetch(self._batch, timeout=wait)
            except (nats.errors.TimeoutError, TimeoutError):
                waited += wait
                continue
            except (nats.errors.Error, OSError) as exc:
                # The connection is down or JetStream has no leader for the consumer yet: the
                # nats client reconnects meanwhile, and the server keeps the consumer's place.
                log.debug("reading paused: %s", type(exc).__name__)
                await asyncio.sleep(_RETRY_WAIT)
                waited += _RETRY_WAIT
                continue
            waited = 0.0
            fetched = self._fetched
            fetched.extend(msgs)
            while fetched:
                msg = self._unacked = fetched.popleft()
                if msg.metadata.sequence.stream <= self._last_sequence:
                    continue  # delivered again after an ack was lost: already given
                self._last_sequence = msg.metadata.sequence.stream
                yield _delivery(msg)

    async def events(self, idle: float | None = None) -> AsyncIterator[Any]:
        """Just the typed events of ``deliveries``."""
        async for delivery in self.deliveries(idle):
            yield delivery.event
