"""The reconnect loop both adapters drive: when to connect, how long to wait before the next
attempt, and when to stop, written once and without I/O.

An adapter iterates ``steps()`` and carries out each step with its own means: ``Connect``
opens a socket (a blocking call in the reader thread, ``loop.create_connection`` in asyncio)
and serves it until its link is down; ``Wait`` waits that many seconds unless the client is
closed meanwhile (a selector, or an ``asyncio.Event``). It reports an attempt whose socket
could not be made (``connect_failed``) or that was not ready in time (``not_ready``), and calls
``finish`` once the steps end, whatever ended them::

    loop.start(connected)
    try:
        for step in loop.steps(closing):
            if isinstance(step, Wait):
                wait_unless_closed(step.seconds)
            else:
                connect_and_serve()  # on failure: deliver(loop.connect_failed(error))
    finally:
        deliver(loop.finish())

The engine keeps the phase and the backoff; this loop only reads them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .client_engine import ClientEngine, Phase, Settable

__all__ = ["CLOSED", "GAVE_UP", "Connect", "ReconnectLoop", "Step", "Wait"]

log = logging.getLogger("brokerwire.client")

#: Why the loop stopped when the client was closed (or the engine finished on its own).
CLOSED = "the client was closed"
#: Why the loop stopped when the reconnect policy gave no further attempt.
GAVE_UP = "reconnecting is off or ran out of attempts"


@dataclass(frozen=True, slots=True)
class Connect:
    """Open a socket now and serve it until its link is down. ``attempt`` is 0 for the first
    connection and counts the attempts since the link was last ready."""

    attempt: int


@dataclass(frozen=True, slots=True)
class Wait:
    """Wait ``seconds``, or less if the client is closed meanwhile."""

    seconds: float


Step = Connect | Wait


class ReconnectLoop:
    """One client's connection attempts, from the first to the last."""

    def __init__(self, engine: ClientEngine[Any, Any], connect_timeout: float) -> None:
        self._engine = engine
        self._connect_timeout = connect_timeout
        #: Why the steps ended; what ``finish`` tells the requests still waiting.
        self.reason = CLOSED

    def start(self, connected: Settable) -> None:
        """The first connection's outcome goes to ``connected``: None once ready, or the
        ``ConnectError`` that stopped it."""
        self._engine.expect(connected)

    def steps(self, closing: Callable[[], bool]) -> Iterator[Step]:
        """Connect; after each failed attempt or lost link, wait the backoff and connect
        again. Ends when ``closing()`` says the client is being closed, when the engine is
        finished (closed, or refused for good), or when the policy gives no further attempt."""
        engine = self._engine
        first = True
        while not closing() and not engine.finished:
            if not first:
                delay = engine.next_delay()
                if delay is None:
                    self.reason = GAVE_UP
                    return
                log.info("reconnecting in %.2f s (attempt %d)", delay, engine.attempts)
                yield Wait(delay)
                if closing():
                    return
            first = False
            yield Connect(engine.attempts)

    @property
    def connecting(self) -> bool:
        """A socket is up and the session is being opened (handshake and authorization):
        ``not_ready`` applies once ``connect_timeout`` has passed since the socket came up."""
        return self._engine.phase is Phase.CONNECTING

    def connect_failed(self, error: BaseException) -> list[Any]:
        """The socket could not be made (refused, name lookup, TLS, timeout); returns the
        events for the caller."""
        return self._engine.attempt_failed(error)

    def not_ready(self) -> list[Any]:
        """The socket is up but the session was not ready within ``connect_timeout``: the
        attempt failed (the adapter drops the socket); returns the events for the caller."""
        error = TimeoutError(f"not ready within {self._connect_timeout:g} s")
        return self._engine.attempt_failed(error)

    def finish(self, failure: str | None = None) -> list[Any]:
        """The steps are over (or the adapter failed, ``failure`` saying how): fail whatever
        still waits and say why reconnecting ended; returns the events for the caller."""
        return self._engine.finish(failure or self.reason)
