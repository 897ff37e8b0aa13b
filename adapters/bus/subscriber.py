"""Read the bus back as typed events, through a durable JetStream consumer.

``Subscriber(servers, "brokerwire.ctrader.>", durable="risk")`` reads the stream from where the
durable consumer ``risk`` left off (the server keeps that place across restarts of the reader),
each message decoded into the Struct its subject names: the very ``SpotEvent`` or
``MarketData`` the publishing gateway's client yielded.

Acknowledgement is cumulative (``AckPolicy.ALL``): when the reader asks for the next batch, the
last message it was given is acknowledged, and with it every earlier one. A message the server
delivers again (an ack lost while a node was down) is recognised by its stream sequence and
skipped, so one reader of a durable consumer sees each event once, in the stream's order.

Deliveries that never arrive. The server numbers what the consumer delivers (the consumer
sequence, in each message's ack subject). Messages it delivered may still be lost on the way:
a node that carried them dies, a connection drops. It gives them again only once its ack wait
is over, and delivers later ones meanwhile, and a cumulative ack of a later one would
acknowledge them unseen. So the reader checks that each delivery's number follows the last;
on a gap it acknowledges nothing past it, and makes the consumer again (the same durable name)
to start at the stream sequence after the last event given. A durable consumer found with
deliveries still unacknowledged is started again the same way, after the last acknowledged. What
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

import msgspec
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
#: What a request to JetStream meets while a cluster elects a leader or the connection is down.
_UNAVAILABLE = (
    nats.errors.TimeoutError,
    nats.errors.NoRespondersError,
    nats.errors.OutboundBufferLimitError,
    nats.errors.ConnectionReconnectingError,
    nats.js.errors.ServiceUnavailableError,
    OSError,
)
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
    #: Why ``event`` is not the kind's Struct but the payload as it came (its JSON, or its
    #: bytes when it is not JSON); None for an event decoded as its kind.
    reason: str | None = None


_raw_json = msgspec.json.Decoder()


def _undecoded(data: bytes) -> Any:
    """The payload as JSON when it is JSON, else its bytes."""
    try:
        return _raw_json.decode(data)
    except (ValueError, RecursionError):
        return bytes(data)


def _delivery(msg: Msg) -> Delivery:
    """The message as a Delivery. One that does not decode (not a brokerwire subject, not the
    kind's JSON) comes as it is, with the reason: it is still in the stream's order, and a
    durable reader must go past it rather than stop before it for ever or lose what follows."""
    parts = msg.subject.split(".", 4)
    broker, account, kind = [*parts, "", "", ""][1:4]
    symbol = parts[4] if len(parts) > 4 else None
    reason: str | None = None
    if len(parts) < 4:
        event = _undecoded(msg.data)
        reason = f"not a brokerwire subject: {msg.subject!r}"
    else:
        try:
            event = decode(broker, kind, msg.data)
        except (ValueError, RecursionError) as exc:
            event = _undecoded(msg.data)
            reason = str(exc) or type(exc).__name__
    headers = msg.headers or {}
    return Delivery(
        subject=msg.subject,
        broker=broker,
        account=account,
        kind=kind,
        symbol=symbol,
        event=event,
        msg_id=headers.get("Nats-Msg-Id"),
        sequence=msg.metadata.sequence.stream,
        reason=reason,
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
        self._last_sequence = 0  # the stream sequence of the last event given
        self._last_delivery = 0  # the consumer sequence of the last message taken (0: none)
        self._consumer_name: str | None = None

    def __repr__(self) -> str:
        return f"<Subscriber {self.subject} durable={self.durable}>"

    async def connect(self) -> Self:
        self._nc = await connect(self._servers, name=f"brokerwire-{self.durable or 'reader'}")
        try:
            await self._start(None)
        except BaseException:
            await self.close()
            raise
        return self

    async def _start(self, start: int | None) -> None:
        """Pull from the consumer (from stream sequence ``start``: made again to begin there),
        retrying (bounded) while a cluster elects its leader."""
        nc = self._nc
        assert nc is not None
        deadline = time.monotonic() + _READY_TIMEOUT
        while True:
            try:
                name = await self._consumer(nc.jetstream(), start)
                break
            except _UNAVAILABLE:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(_RETRY_WAIT)
        self._consumer_name = name
        self._last_delivery = 0
        self._pull = PullRequests(nc, self.stream, name, self._batch)
        await self._pull.start()

    async def _consumer(self, js: JetStreamContext, start: int | None) -> str:
        """The consumer's name: the durable one as it is, or one made (again) to start at
        stream sequence ``start`` (0: where ``deliver`` says)."""
        if start is None and self.durable is not None:
            try:
                info = await js.consumer_info(self.stream, self.durable)
            except nats.js.errors.NotFoundError:
                pass
            else:
                if not info.num_ack_pending:
                    return self.durable
                # Delivered to a reader before, not acknowledged: perhaps never seen.
                start = info.ack_floor.stream_seq + 1 if info.ack_floor else 0
                start = start if start > 1 else 0
        name = self._consumer_name or self.durable
        if start is not None and name is not None:
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_consumer(self.stream, name)
        config = ConsumerConfig(
            durable_name=self.durable,
            filter_subject=self.subject,
            ack_policy=AckPolicy.ALL,
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE if start else self._deliver,
            opt_start_seq=start or None,
            max_ack_pending=max(1000, 4 * self._batch),
            inactive_threshold=None if self.durable is not None else _EPHEMERAL_LINGER,
        )
        info = await js.add_consumer(self.stream, config)
        return info.name

    async def _restart(self) -> None:
        """A delivery never came: start again after the last event given, acknowledging
        nothing past it."""
        log.info("a delivery was lost on the way; reading again from the last event given")
        if self._pull is not None:
            with contextlib.suppress(nats.errors.Error, OSError):
                await self._pull.stop()
        self._pull = None
        self._unacked = None
        await self._start(self._last_sequence + 1)

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
        if self._pull is None:
            raise LocalProtocolError("connect() first")
        quiet_since = time.monotonic()
        while True:
            pull = self._pull
            assert pull is not None
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
            msg = pull.arrived.popleft()
            numbers = msg.metadata.sequence
            if self._last_delivery and numbers.consumer > self._last_delivery + 1:
                await self._restart()
                continue
            sequence = numbers.stream
            # Made before the message counts as given: should it fail, it is not acknowledged.
            delivery = None if sequence <= self._last_sequence else _delivery(msg)
            self._last_delivery = numbers.consumer
            self._unacked = msg
            if delivery is None:
                continue  # delivered again after an ack was lost: already given
            self._last_sequence = sequence
            yield delivery

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
