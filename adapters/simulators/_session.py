"""What every simulated connection shares: counting what it sends, and striking faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from ._server import Driver, ServerConnection
from .faults import Fault, FaultKind

__all__ = ["GARBAGE", "SimulatedSession", "paced"]

# Not a frame of either protocol: a WebSocket reader sees reserved opcode 0xF, a length-prefix
# reader an absurd length, a JSON reader something that is not '{'.
GARBAGE = b"\xff\xfe\xfd\xfc garbage from a simulated fault \x00\x01\x02"


class SimulatedSession:
    """Base of the simulators' sessions. Subclasses set ``conn`` and implement the protocol."""

    conn: ServerConnection

    def __init__(self, driver: Driver, fault: Fault | None) -> None:
        self.driver = driver
        self.sent = 0
        self.response_delay = 0.0
        #: answers held back by a ``delay`` fault and not yet sent
        self.answers_waiting = 0
        self._fault: Fault | None = None
        self._fault_base = 0
        if fault is not None:
            self.set_fault(fault)

    def set_fault(self, fault: Fault | None) -> None:
        """Arm ``fault`` to strike after ``fault.after`` more messages."""
        self._fault = fault
        self._fault_base = self.sent

    def deliver(self, send: Callable[[], None]) -> bool:
        """Queue one message with ``send`` and write it, unless a fault strikes first (or the
        connection can no longer send: a stream may still be running when the client goes, and
        an account's events reach every session, one that is closing too)."""
        if self.driver.closed or not self.conn.opened:
            return False
        fault = self._fault
        if fault is not None and self.sent - self._fault_base >= fault.after:
            self._fault = None
            if not self._strike(fault, send):
                return False
        send()
        self.sent += 1
        self.driver.flush()
        return True

    def respond(self, send: Callable[[], None]) -> None:
        """Deliver an answer to a request, late if a ``delay`` fault is in force."""
        fault = self._fault
        if (
            fault is not None
            and fault.kind is FaultKind.DELAY
            and self.sent - self._fault_base >= fault.after
        ):
            self._fault = None  # its time has come: this very answer is the first one delayed
            self.response_delay = fault.seconds
        if self.response_delay > 0:
            self.answers_waiting += 1
            self.driver.loop.call_later(self.response_delay, self._deliver_late, send)
        else:
            self.deliver(send)

    def _deliver_late(self, send: Callable[[], None]) -> None:
        self.answers_waiting -= 1
        self.deliver(send)

    def _strike(self, fault: Fault, send: Callable[[], None]) -> bool:
        """Do what ``fault`` says; True when the message should still be sent."""
        kind = fault.kind
        if kind is FaultKind.DROP_MID_FRAME:
            send()
            data = self.conn.data_to_send()
            self.driver.cut(data[: max(1, len(data) // 2)])
            return False
        if kind is FaultKind.GARBAGE:
            self.driver.write_raw(GARBAGE)
            return True
        if kind is FaultKind.SILENCE:
            self.driver.mute()
            return False
        if kind is FaultKind.DELAY:
            self.response_delay = fault.seconds
            return True
        if kind is FaultKind.SHUTDOWN:
            self.announce_shutdown(fault.reason)
        self.close_with(fault.code, fault.reason)
        self.driver.flush()
        return False

    def announce_shutdown(self, reason: str) -> None:
        """Tell the client the server is going away (each protocol has its own message)."""
        raise NotImplementedError

    def close_with(self, code: int, reason: str) -> None:
        """Close the connection with ``code`` where the transport has close codes."""
        raise NotImplementedError

    def handle(self, events: list[object]) -> None:
        raise NotImplementedError

    def finished(self) -> None:
        """The connection is gone; streams stop with the driver's tasks."""


async def paced(rate: float, driver: Driver) -> AsyncIterator[None]:
    """Yield ``rate`` times per second on average, in bursts at high rates; waits while the
    client's socket is full, so a slow client slows the stream instead of losing messages."""
    interval = 1.0 / rate
    loop = driver.loop
    next_at = loop.time()
    while not driver.closed:
        await driver.writable()
        now = loop.time()
        due = min(int((now - next_at) / interval) + 1, 1000)
        for _ in range(due):
            yield None  # the consumer stops when a delivery fails on a closed connection
        next_at += due * interval
        await asyncio.sleep(max(0.0, next_at - loop.time()))
