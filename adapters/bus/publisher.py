"""Publish what a client yields to NATS JetStream, in order, once, with nothing dropped.

``Publisher.run(client.events())`` takes each event, encodes it (``codec``), and publishes it to
its subject (``subjects``) on the stream, creating the stream when it is missing.

Message ids. Each event gets ``<publisher id>.<n>``: the publisher's id (chosen once per
publisher) and the event's number in what it took from the client. The id is fixed when the
event is taken, so a resend after a lost ack or a reconnect carries the same id, and JetStream,
which remembers ids for the stream's duplicate window, stores no copy (see below). (A window
sent again more than that window after it was stored would be stored twice.) A gateway that restarts
takes new events from a new link, under a new publisher id.

Windows. Up to ``window`` messages (at most 1,000, JetStream's limit) go out as one atomic batch
(``Nats-Batch-Id``, ``Nats-Batch-Sequence``, ``Nats-Batch-Commit``): the stream stores all of
them, in order, or none. Only one window is in flight, and the next goes only once JetStream
said this one is stored. A window that failed (an error, no answer within ``ack_timeout``, the
connection down) is sent again, the very same messages under a new batch id, after a pause that
grows while failures last. So no message can be stored after one taken later: a cluster that
changes its leader in the middle of a window loses the window whole, never its front alone.
JetStream refuses a batch holding a message id it already has; since a batch is stored whole or
not at all and a resend is the same messages, that answer means the earlier send was stored
and only its ack was lost: the window counts as stored, its messages as duplicates dropped.

Backpressure: see ``buffer``. Give the client ``on_full="pause"`` so that its own queue, too,
holds what it has instead of conflating market data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from brokerwire.core.errors import LocalProtocolError

from .buffer import Outgoing, PublishBuffer
from .codec import encode
from .connection import DEFAULT_STREAM, connect, ensure_stream
from .subjects import subject, token

__all__ = ["PublishStats", "Publisher"]

log = logging.getLogger("brokerwire.bus")

_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 1.0
#: The most messages JetStream takes in one atomic batch (the server's default limit).
MAX_WINDOW = 1000
#: JetStream's error for a batch holding a message id the stream has already stored.
_DUPLICATE_IN_BATCH = 10201


@dataclass
class PublishStats:
    """Counts since the publisher started."""

    taken: int = 0  #: events taken from the client
    stored: int = 0  #: events JetStream acknowledged (each once)
    duplicates: int = 0  #: resends JetStream had already stored, and dropped
    resent: int = 0  #: windows sent again after a failure
    unencodable: int = 0  #: events with no JSON form, logged and left out
    buffered: int = 0  #: events waiting or in flight now

    def line(self) -> str:
        return (
            f"taken {self.taken}, stored {self.stored}, buffered {self.buffered}, "
            f"duplicates dropped {self.duplicates}, resent windows {self.resent}"
        )


class Publisher:
    """Publishes a client's events to JetStream; ``async with Publisher(...) as p:
    await p.run(client.events())``.

    ``broker`` (``tradovate`` or ``ctrader``) and ``account`` (a label of the gateway's account,
    used where an event names none) make the subjects. ``replicas`` and ``duplicate_window``
    (seconds) apply when the stream is created. A window holds at most ``window`` events; the
    buffer at most ``max_buffered`` events and ``max_buffered_bytes`` of payload.
    """

    def __init__(
        self,
        servers: str | Sequence[str],
        *,
        broker: str,
        account: str,
        stream: str = DEFAULT_STREAM,
        replicas: int = 1,
        duplicate_window: float = 120.0,
        window: int = 512,
        max_buffered: int = 4096,
        max_buffered_bytes: int = 16 * 1024 * 1024,
        ack_timeout: float = 5.0,
        publisher_id: str | None = None,
    ) -> None:
        if not 1 <= window <= min(max_buffered, MAX_WINDOW):
            raise ValueError(f"window must be between 1 and max_buffered (at most {MAX_WINDOW})")
        if ack_timeout <= 0:
            raise ValueError("ack_timeout must be more than 0")
        self.broker = broker
        self.account = account
        self.stream = stream
        self.publisher_id = token(publisher_id or f"{broker}-{account}-{secrets.token_hex(6)}")
        self.stats = PublishStats()
        self._servers = servers
        self._replicas = replicas
        self._duplicate_window = duplicate_window
        self._window = window
        self._ack_timeout = ack_timeout
        self._buffer = PublishBuffer(max_buffered, max_buffered_bytes)
        self._room = asyncio.Event()
        self._more = asyncio.Event()
        self._ended = False
        self._retry = 0  # the size of the window that failed and goes again (0: none)
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None

    def __repr__(self) -> str:
        return f"<Publisher {self.publisher_id} to stream {self.stream}>"

    @property
    def buffer(self) -> PublishBuffer:
        return self._buffer

    async def connect(self) -> Self:
        """Connect and make sure the stream exists."""
        self._nc = await connect(self._servers, name=self.publisher_id)
        self._js = self._nc.jetstream()
        try:
            await ensure_stream(self._js, self.stream, self._replicas, self._duplicate_window)
        except BaseException:
            await self.close()
            raise
        return self

    async def close(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def run(self, events: AsyncIterable[Any]) -> None:
        """Publish every event of ``events`` and return once JetStream has stored them all.
        Waits (for ever) while JetStream is away; cancel the task to stop."""
        if self._js is None:
            raise LocalProtocolError("connect() first")
        self._ended = False
        reader = asyncio.get_running_loop().create_task(self._take(aiter(events)))
        try:
            await self._send()
            await reader  # its error, if it failed
        finally:
            if not reader.done():
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    # -- taking events from the client -----------------------------------------------------------

    async def _take(self, events: AsyncIterator[Any]) -> None:
        buffer = self._buffer
        try:
            while True:
                while buffer.full:
                    self._room.clear()
                    await self._room.wait()
                try:
                    event = await anext(events)
                except StopAsyncIteration:
                    return
                self._add(event)
        finally:
            self._ended = True
            self._more.set()

    def _add(self, event: Any) -> None:
        stats = self.stats
        stats.taken += 1
        try:
            payload = encode(event)
        except LocalProtocolError as exc:
            stats.unencodable += 1
            log.warning("an event left off the bus: %s", exc)
            return
        number = stats.taken
        msg_id = f"{self.publisher_id}.{number}"
        topic = subject(self.broker, self.account, event)
        self._buffer.add(Outgoing(topic, payload, number, msg_id))
        stats.buffered = len(self._buffer)
        self._more.set()

    # -- publishing ------------------------------------------------------------------------------

    async def _send(self) -> None:
        buffer = self._buffer
        backoff = _FIRST_BACKOFF
        while True:
            if not buffer:
                if self._ended:
                    return
                self._more.clear()
                await self._more.wait()
                continue
            # A window that failed goes again as it was: its messages were stored all or none.
            batch = buffer.head(self._retry or self._window)
            if await self._publish(batch):
                buffer.release(len(batch))
                self.stats.buffered = len(buffer)
                self._room.set()
                self._retry, backoff = 0, _FIRST_BACKOFF
                continue
            self._retry = len(batch)
            self.stats.resent += 1
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _publish(self, batch: list[Outgoing]) -> bool:
        """Send ``batch`` as one atomic batch and await JetStream's answer: True once it is
        stored (now, or by an earlier send whose ack was lost)."""
        nc = self._nc
        assert nc is not None
        batch_id = secrets.token_hex(16)
        last = len(batch)
        try:
            for number, entry in enumerate(batch, 1):
                headers = {
                    "Nats-Batch-Id": batch_id,
                    "Nats-Batch-Sequence": str(number),
                    "Nats-Msg-Id": entry.msg_id,
                }
                if number < last:
                    await nc.publish(entry.subject, entry.payload, headers=headers)
                    continue
                headers["Nats-Batch-Commit"] = "1"
                answer = await nc.request(
                    entry.subject, entry.payload, timeout=self._ack_timeout, headers=headers
                )
        except (nats.errors.Error, OSError) as exc:
            log.debug("publishing failed: %s", type(exc).__name__)
            return False
        return self._stored(answer.data, last)

    def _stored(self, answer: bytes, count: int) -> bool:
        """Whether JetStream's answer to a batch of ``count`` says it is stored."""
        try:
            reply = json.loads(answer)
        except ValueError:
            log.debug("JetStream's answer to a batch is not JSON")
            return False
        error = reply.get("error") if isinstance(reply, dict) else None
        if error is not None:
            if error.get("err_code") != _DUPLICATE_IN_BATCH:
                log.debug("a batch was refused: %s", error.get("description"))
                return False
            self.stats.duplicates += count
        elif not isinstance(reply, dict) or reply.get("count") != count:
            log.debug("JetStream's answer to a batch does not count it")
            return False
        self.stats.stored += count
        return True
