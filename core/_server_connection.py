"""What the two broker server connections share, whatever their protocol.

Each serves one client over a transport; its state is the transport's until the conversation
ends, then CLOSED (``_end`` is the one place that happens). Both take an idle heartbeat and an
idle timeout, and end the same way on bad data. How client messages are read, what a heartbeat
is and how the server answers stay in each broker's server.
"""

from __future__ import annotations

from typing import Generic, Protocol, TypeVar

from ._guards import check_duration
from ._timers import IdleHeartbeat
from .errors import RemoteProtocolError
from .transport import Closed, TransportState, TransportStates

__all__ = ["ServerConnection"]

EventT = TypeVar("EventT")


class _Transport(Protocol):
    """What the shared part uses of the transport (``WebSocketConnection``, ``TcpConnection``)."""

    @property
    def state(self) -> TransportState: ...
    def data_to_send(self) -> bytes: ...
    def fail(self, code: int, reason: str) -> int | None: ...
    def fail_with(self, error: RemoteProtocolError) -> Closed: ...


TransportT = TypeVar("TransportT", bound=_Transport)


class ServerConnection(TransportStates, Generic[EventT, TransportT]):
    """A broker server connection over ``TransportT``."""

    _transport: TransportT

    def _set_timers(self, heartbeat_interval: float | None, idle_timeout: float | None) -> None:
        """Check and keep the timers; a duration that is NaN, infinite, zero or negative raises
        ``LocalProtocolError``."""
        if idle_timeout is not None:
            check_duration("idle_timeout", idle_timeout, positive=True)
        self._heartbeat = IdleHeartbeat(heartbeat_interval)
        self._idle_timeout = idle_timeout
        self._now = 0.0
        self._last_received: float | None = None
        self._closed = False

    @property
    def state(self) -> TransportState:
        return TransportState.CLOSED if self._closed else self._transport.state

    def data_to_send(self) -> bytes:
        """Everything queued for the client since the last call."""
        return self._transport.data_to_send()

    def _idle_deadline(self) -> float | None:
        """When the client's silence will have lasted ``idle_timeout`` (None: no watch)."""
        if self._idle_timeout is None or self._last_received is None:
            return None
        return self._last_received + self._idle_timeout

    def _idle_timed_out(self, now: float, events: list[EventT | Closed]) -> bool:
        """At the idle deadline: fail the transport (1001) and end; True when it did."""
        deadline = self._idle_deadline()
        if deadline is None or now < deadline:
            return False
        code = self._transport.fail(1001, "idle timeout")
        self._end()
        events.append(Closed(code, f"the client sent nothing for {self._idle_timeout:g} s"))
        return True

    def _end(self) -> None:
        """The conversation is over, whatever the transport's own state: CLOSED from now on."""
        self._closed = True

    def _fail(self, events: list[EventT | Closed], error: RemoteProtocolError) -> None:
        self._end()
        events.append(self._transport.fail_with(error))
