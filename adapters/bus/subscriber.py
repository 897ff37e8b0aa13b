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
from .pull import PullRequests

__all__ = ["Delivery", "Subscriber"]

log = logging.getLogger("brokerwire.bus")

#: Seconds one fetch waits for messages before the reader looks at its own deadline.
_FETCH_WAIT = 1.0
#: Seconds to wait for JetStream to make the consumer while a cluster elects its leader.
_READY_TIMEOUT = 30.0
#: Seconds between two tries while JetStream does not answer (a node down, a leader elected).
_RETRY_WAIT = 0.25
#: Seconds the server keeps an ephemeral consumer after its reader went.
_EPHEMERAL_LINGER = 30.0


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
        self._pull: PullRequests | None = None
        self._unacked: Msg | None = None
        self._last_sequence = 0

    def __repr__(self) -> str:
        return f"<Subscriber {self.subject} durable={self.durable}>"

    async def connect(self) -> Self:
        self._nc = await connect(self._servers, name=f"brokerwire-{self.durable or 'reader'}")
        deadline = time.monotonic() + _READY_TIMEOUT
        try:
            while self._pull is None:
                try:
                    consumer = await self._consumer(self._nc.jetstream())
                except (nats.errors.TimeoutError, nats.js.errors.ServiceUnavailableError):
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(_RETRY_WAIT)
                    continue
                self._pull = PullRequests(self._nc, self.stream, consumer, self._batch)
            await self._pull.start()
        except BaseException:
            await self.close()
            raise
        return self

    async def _consumer(self, js: JetStreamContext) -> str:
        """The durable consumer's name (made if missing), or a new ephemeral one's."""
        if self.durable is not None:
            try:
                await js.consumer_info(self.stream, self.durable)
                return self.durable
            except nats.js.errors.NotFoundError:
                pass
        config = ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subject,
            ack_policy=AckPolicy.ALL,
            deliver_policy=self._deliver,
            max_ack_pending=max(1000, 4 * self._batch),
            inactive_threshold=None if self.durable is not None else _EPHEMERAL_LINGER,
        )
        info = await js.add_consumer(self.stream, config)
        return info.name

    async def close(self) -> None:
        """Acknowledge what was read, hand back what was fetched but not read (the next reader
        gets it at once), and disconnect. Waits (at most a second or two) for the last pull
        request to end first."""
        with contextlib.suppress(nats.errors.Error, OSError):
            await self._ack()
            if self._pull is not None:
                await self._pull.settle()
                while self._pull.arrived:
                    await self._pull.arrived.popleft().nak()
                await self._pull.stop()
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
        pull = self._pull
        if pull is None:
            raise LocalProtocolError("connect() first")
        quiet_since = time.monotonic()
        while True:
            if not pull.arrived:
                waited = time.monotonic() - quiet_since
                if idle is not None and waited >= idle:
                    return
                wait = max(0.01, _FETCH_WAIT if idle is None else min(_FETCH_WAIT, idle - waited))
                if not pull.open and not await self._ask(pull, wait):
                    continue
                await pull.arrival(wait)
                continue
            quiet_since = time.monotonic()
            msg = self._unacked = pull.arrived.popleft()
            sequence = msg.metadata.sequence.stream
            if sequence <= self._last_sequence:
                continue  # delivered again after an ack was lost: already given
            self._last_sequence = sequence
            yield _delivery(msg)

    async def _ask(self, pull: PullRequests, wait: float) -> bool:
        """Acknowledge what was given and ask for the next batch; False (after a pause) while
        the connection is down."""
        try:
            await self._ack()
            await pull.request(wait)
        except (nats.errors.Error, OSError) as exc:
            # The nats client reconnects meanwhile, and the server keeps the consumer's place.
            log.debug("reading paused: %s", type(exc).__name__)
            await asyncio.sleep(_RETRY_WAIT)
            return False
        return True

    async def events(self, idle: float | None = None) -> AsyncIterator[Any]:
        """Just the typed events of ``deliveries``."""
        async for delivery in self.deliveries(idle):
            yield delivery.event
