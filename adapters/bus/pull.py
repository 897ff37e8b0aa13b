"""Pull requests to a JetStream consumer, with the messages taken by a subscription callback.

nats-py's ``fetch`` waits for each message with a timeout of its own; a message that arrives as
that timeout fires is taken off the queue and dropped, and with cumulative acknowledgement the
next ack would acknowledge it unseen. Here every message that reaches the inbox is kept, in the
order it came: one pull request at a time asks for a batch (``$JS.API.CONSUMER.MSG.NEXT``), a
callback appends what arrives, and a status message (no messages, request expired, leader
changed) or a full batch ends the request. A request lost with the connection simply expires:
the next one is sent once its time is up.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import Header

__all__ = ["PullRequests"]

#: Seconds past a request's expiry before it counts as lost.
_GRACE = 0.5


class PullRequests:
    """Batches from the consumer ``consumer`` of ``stream``, in arrival order."""

    def __init__(self, nc: NATS, stream: str, consumer: str, batch: int) -> None:
        self._nc = nc
        self._subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._batch = batch
        self._inbox = nc.new_inbox()
        self._subscription: Subscription | None = None
        self.arrived: deque[Msg] = deque()
        self._wake = asyncio.Event()
        self._remaining = 0  # messages the open request may still bring
        self._lost_at = 0.0  # when the open request counts as lost
        self._asked_at = 0.0
        self._brought = 0  # messages the last request brought

    async def start(self) -> None:
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)

    async def stop(self) -> None:
        if self._subscription is not None and not self._nc.is_closed:
            await self._subscription.unsubscribe()
        self._subscription = None

    async def _on_message(self, msg: Msg) -> None:
        if msg.headers and msg.headers.get(Header.STATUS) and not msg.data:
            self._remaining = 0  # the request is over (no messages, expired, leader changed)
        else:
            self.arrived.append(msg)
            self._remaining -= 1
            self._brought += 1
        self._wake.set()

    @property
    def open(self) -> bool:
        return self._remaining > 0 and time.monotonic() < self._lost_at

    async def request(self, wait: float) -> None:
        """Ask for a batch, to come within ``wait`` seconds."""
        body = {"batch": self._batch, "expires": int(wait * 1e9)}
        self._remaining = self._batch
        self._brought = 0
        self._asked_at = time.monotonic()
        self._lost_at = self._asked_at + wait + _GRACE
        await self._nc.publish(self._subject, json.dumps(body).encode(), reply=self._inbox)

    async def settle(self) -> None:
        """Until the open request is over, keeping what it still brings: the server must not
        hand a message to a reader that is going (it would count as delivered, and the next
        reader's cumulative ack would acknowledge it unseen)."""
        end = self._lost_at + _GRACE
        while self._remaining > 0 and time.monotonic() < end:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), end - time.monotonic())
            except TimeoutError:
                return

    async def arrival(self, wait: float) -> None:
        """Until a message or the end of the request arrives, or the request is lost. A request
        the server ended early with nothing (a leader election, a consumer busy) is followed by
        a pause, so that asking again does not spin."""
        while not self.arrived and self.open:
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), self._lost_at - time.monotonic())
            except TimeoutError:
                return
        if not self.arrived and not self._brought and time.monotonic() - self._asked_at < wait / 2:
            await asyncio.sleep(min(wait / 2, _GRACE))
