"""``receive_events``: the events of some bytes, decoded one at a time as the caller asks.

``receive_data(data, now)`` decodes everything ``data`` completes before it returns, so a 64 KiB
read of quotes is held as a list of some two hundred decoded messages at once. Held across the
collector's young-generation passes, those dicts and lists are promoted and make the full
collections come, whose cost grows with the whole program's heap. ``receive_events`` takes the
same bytes but decodes each message when the caller asks for the next event, so a message is
usually gone before the next is made. Transport work (frame parsing, pong replies, close
replies) still happens at once, in the call: only the protocol layer's decoding waits.

An iterator the caller leaves unfinished loses nothing. The next call that feeds bytes or runs
the timers first decodes what it still held, and hands those events out ahead of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import Generic, TypeVar

__all__ = ["StreamingReceiver"]

EventT = TypeVar("EventT")


class StreamingReceiver(Generic[EventT]):
    """``receive_data`` and ``receive_events`` for a connection that supplies ``_decode``."""

    _unfinished: Iterator[EventT] | None = None

    def _decode(self, data: bytes, now: float) -> Iterator[EventT]:
        """Take ``data`` now (transport work included); return the events, decoded as read."""
        raise NotImplementedError

    def receive_events(self, data: bytes, now: float) -> Iterator[EventT]:
        """``receive_data``, decoding each message only when the next event is asked for.

        Iterate to the end before feeding more bytes. Events a caller left unread are not lost:
        the next ``receive_events``, ``receive_data`` or ``handle_timer`` decodes them first and
        returns them ahead of its own. While iterating, the connection's state (``state``,
        pending requests) is as of the last event handed out; requests may be sent meanwhile.
        """
        held = self._settle()
        events = self._decode(data, now)
        if held:
            events = chain(held, events)
        self._unfinished = events
        return events

    def receive_data(self, data: bytes, now: float) -> list[EventT]:
        """Feed bytes from the peer (``b""`` when it closed); returns what they meant."""
        return list(self.receive_events(data, now))

    def _settle(self) -> list[EventT]:
        """Decode whatever an unfinished ``receive_events`` iterator still holds."""
        unfinished = self._unfinished
        if unfinished is None:
            return []
        self._unfinished = None
        return list(unfinished)
