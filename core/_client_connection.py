"""What the two broker client connections share, whatever their protocol.

Both own a message transport (a WebSocket, or TCP for cTrader), take the same three durations,
watch the server for silence, and end the same way when the server breaks the protocol: the
transport closes with the error's code and the broker's ``_finish`` fails every pending request
before the terminal ``Closed``. The decoding of messages, the requests and the closing handshake
differ, and stay in each broker's connection.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

from ._guards import check_duration
from ._receiving import StreamingReceiver
from .errors import RemoteProtocolError
from .transport import Closed

__all__ = ["ClientConnection"]

EventT = TypeVar("EventT")


class _Transport(Protocol):
    """What the shared part uses of the transport (``WebSocketConnection``, ``TcpConnection``)."""

    def data_to_send(self) -> bytes: ...
    def handle_timer(self, now: float) -> Sequence[object]: ...
    def fail(self, code: int, reason: str) -> int | None: ...
    def fail_with(self, error: RemoteProtocolError) -> Closed: ...


TransportT = TypeVar("TransportT", bound=_Transport)


class ClientConnection(StreamingReceiver[EventT], Generic[EventT, TransportT]):
    """A broker client connection over ``TransportT``; the subclass supplies ``_finish``."""

    _transport: TransportT
    _heartbeat_interval: float
    _watchdog_timeout: float | None
    _request_timeout: float | None
    _last_received: float | None

    def _set_durations(
        self,
        heartbeat_interval: float,
        watchdog_timeout: float | None,
        request_timeout: float | None,
    ) -> None:
        """Check and keep the durations every client takes; one that is NaN, infinite or
        negative (or zero, but for ``request_timeout``) raises ``LocalProtocolError``."""
        check_duration("heartbeat_interval", heartbeat_interval, positive=True)
        if watchdog_timeout is not None:
            check_duration("watchdog_timeout", watchdog_timeout, positive=True)
        if request_timeout is not None:
            check_duration("request_timeout", request_timeout)
        self._heartbeat_interval = heartbeat_interval
        self._watchdog_timeout = watchdog_timeout
        self._request_timeout = request_timeout
        self._last_received = None

    def data_to_send(self) -> bytes:
        """Everything queued for the server since the last call."""
        return self._transport.data_to_send()

    def peer_alive(self, now: float) -> None:
        """Restart the watchdog's count of silence: the server is known to be alive.

        An adapter that stops reading while a slow consumer catches up calls this from its
        timers, since the silence is then its own doing; the count resumes when reading does.
        """
        if self._last_received is not None and now > self._last_received:
            self._last_received = now

    def _watchdog_deadline(self) -> float | None:
        """When the server's silence will have lasted ``watchdog_timeout`` (None: no watch)."""
        if self._watchdog_timeout is None or self._last_received is None:
            return None
        return self._last_received + self._watchdog_timeout

    def _watchdog_fired(self, now: float, events: list[EventT]) -> bool:
        """At the watchdog's deadline: fail the transport (1011) and end; True when it fired."""
        deadline = self._watchdog_deadline()
        if deadline is None or now < deadline:
            return False
        reason = (
            f"nothing arrived from the server for {self._watchdog_timeout:g} s: the link is dead"
        )
        self._finish(events, Closed(self._transport.fail(1011, "watchdog timeout"), reason))
        return True

    def _transport_timers_ended(self, now: float, events: list[EventT]) -> bool:
        """Run the transport's timers; True when they ended the connection (``_finish`` ran)."""
        for t_event in self._transport.handle_timer(now):
            if type(t_event) is Closed:
                self._finish(events, t_event)
                return True
        return False

    def _failed(self, error: RemoteProtocolError) -> list[EventT]:
        """``_fail``, with the events it makes returned."""
        events: list[EventT] = []
        self._fail(events, error)
        return events

    def _fail(self, events: list[EventT], error: RemoteProtocolError) -> None:
        """The server broke the protocol: close (with ``error``'s code over WebSocket), end."""
        self._finish(events, self._transport.fail_with(error))

    def _finish(self, events: list[EventT], closed: Closed) -> None:
        """End the connection: every pending request fails, then ``closed`` is the last event."""
        raise NotImplementedError
