"""Publish what a client yields to NATS JetStream, in order, once, with nothing dropped.

``Publisher.run(client.events())`` takes each event, encodes it (``codec``), and publishes it to
its subject (``subjects``) on the stream, creating the stream when it is missing.

Message ids. Each event gets ``<publisher id>.<n>``: the publisher's id (chosen once per
publisher) and the event's number in what it took from the client. The id is fixed when the
event is taken, so a resend after a lost ack or a reconnect carries the same id, and JetStream,
which remembers ids for the stream's duplicate window, drops the copy. A gateway that restarts
takes new events from a new link, under a new publisher id.

Windows. Up to ``window`` messages go out at once, asynchronously, and their acks are awaited
together (at most ``ack_timeout`` seconds). What was stored, from the oldest on, leaves the
buffer; from the first message that failed, everything is sent again, the same ids. After a
failure the publisher probes with one message at a time (waiting longer between tries) until
JetStream stores again, so that no burst straddles the moment a cluster has its leader back:
messages of a subject are stored in the order taken. Should a later message of a window be
stored while an earlier one was not, ``stats.out_of_order`` counts it and a warning says so.

Backpressure: see ``buffer``. Give the client ``on_full="pause"`` so that its own queue, too,
holds what it has instead of conflating market data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Self

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import PubAck

from brokerwire.core.errors import LocalProtocolError

from .buffer import Outgoing, PublishBuffer
from .codec import encode
from .connection import DEFAULT_STREAM, connect, ensure_stream
from .subjects import subject, token

__all__ = ["PublishStats", "Publisher"]

log = logging.getLogger("brokerwire.bus")

_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 1.0


@dataclass
class PublishStats:
    """Counts since the publisher started."""

    taken: int = 0  #: events taken from the client
    stored: int = 0  #: events JetStream acknowledged (each once)
    duplicates: int = 0  #: resends JetStream had already stored, and dropped
    resent: int = 0  #: windows sent again after a failure
    out_of_order: int = 0  #: messages stored after one taken later (see the module text)
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
    (seconds) apply when the stream is created. The buffer holds at most ``max_buffered``
    events and ``max_buffered_bytes`` of payload.
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
        if not 1 <= window <= max_buffered:
            raise ValueError("window must be between 1 and max_buffered")
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
        self._ahead = 0  # the highest number stored while an earlier one was not (yet) acked
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
        self._js = self._nc.jetstream(publish_async_max_pending=self._window)
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
        probing = False
        backoff = _FIRST_BACKOFF
        while True:
            if not buffer:
                if self._ended:
                    return
                self._more.clear()
                await self._more.wait()
                continue
            batch = buffer.head(1 if probing else self._window)
            stored = await self._publish(batch)
            buffer.release(stored)
            self.stats.buffered = len(buffer)
            self._room.set()
            if stored == len(batch):
                probing, backoff = False, _FIRST_BACKOFF
                continue
            self.stats.resent += 1
            probing = True
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _publish(self, batch: list[Outgoing]) -> int:
        """Send ``batch`` and await its acks: how many, from the first, JetStream stored."""
        js = self._js
        assert js is not None
        futures: list[tuple[Outgoing, asyncio.Future[PubAck]]] = []
        try:
            for entry in batch:
                headers = {"Nats-Msg-Id": entry.msg_id}
                sent = await js.publish_async(entry.subject, entry.payload, headers=headers)
                futures.append((entry, sent))
        except (nats.errors.Error, OSError) as exc:
            log.debug("publishing failed: %s", type(exc).__name__)
        if futures:
            _, late = await asyncio.wait([f for _, f in futures], timeout=self._ack_timeout)
            for future in late:
                future.cancel()
        return self._count_stored(futures)

    def _count_stored(self, futures: list[tuple[Outgoing, asyncio.Future[PubAck]]]) -> int:
        """How many of the window, from the first, were stored. A message stored past one that
        was not acknowledged is noted: if that earlier one then turns out to be new to the
        stream (not a duplicate of a copy whose ack was lost), the stream holds the two out of
        order, and ``stats.out_of_order`` counts it."""
        stats = self.stats
        stored = 0
        failed = False
        for entry, future in futures:
            error = None if future.cancelled() else future.exception()
            if future.cancelled() or error is not None:
                if not failed:
                    log.debug("no ack: %s", "timed out" if error is None else type(error).__name__)
                failed = True
                continue
            ack = future.result()
            if failed:
                if not ack.duplicate:
                    self._ahead = max(self._ahead, entry.number)
                continue
            stored += 1
            if ack.duplicate:
                stats.duplicates += 1
            elif entry.number < self._ahead:
                stats.out_of_order += 1
                log.warning("a message was stored after one taken later than it")
        stats.stored += stored
        return stored
