"""The bounded queue between a client's reader and the code that consumes its events.

The queue is bounded in events (``limit``) and in bytes (``max_bytes``, counted from each
event's size on the wire). What happens when it is full depends on ``on_full``:

``"conflate"`` (the default)
    Reading never pauses for market data. Past either bound, market data is conflated: each
    update goes to a slot per instrument and kind (``market_parts`` below says which events are
    market data and how each kind merges), the newest merged into an unread older one, so the
    queue holds at most one pending update per instrument and kind besides what it already
    held. Everything else (entity changes, executions, follow-ups of orders, connection
    events) is never dropped nor reordered; reading pauses only when those events alone fill
    the queue, and resumes once they are down to half of each bound. (Request outcomes never
    enter the queue: they go straight to whoever waits for them.)
``"pause"``
    Nothing is conflated: reading pauses when the queue is full and resumes at half of each
    bound (the server then slows down through TCP flow control).

``conflate_always`` (``events(conflate=True)``) conflates market data whether the queue is
full or not: the consumer sees the latest update per instrument and kind, as a dashboard wants.

Order. Events that are not market data keep their order, and so do the updates of one
instrument and kind. A slot sits in the queue where its oldest unread update was: the merged
update is delivered there, so it may come before events that arrived after its newest part
(delivering it at the place of the newest instead would let a steady stream push every slot
back for ever). Once the queue is below its bounds again, updates go in as they come, after
every slot.

Merging. Each kind merges as its protocol means it (each broker's ``conflation`` module in core
says how): Tradovate quotes are partial, DOM snapshots replace, chart bars merge by timestamp;
cTrader spots merge field by field and depth updates merge their new and deleted quotes.
Tradovate tick chart packets and end-of-history markers are never conflated.

Sizes. The adapter knows the bytes of each read, not of each event: an event's size is its share
of the read it came from (the read's bytes, with those of earlier reads that completed no event,
divided by the events it gave), and a slot weighs its newest update. One read's worth of events
can go past either bound.

Cost. Below the bounds a read's events go in as one batch (a type lookup per event); while
conflating, each market-data event costs a key, a dict lookup and at most one merge (about a
microsecond).

What is market data, its conflation key and how two updates merge are broker rules: they live
in ``brokerwire.core.tradovate.conflation`` and ``brokerwire.core.ctrader.conflation``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable
from itertools import repeat
from typing import Any, Literal

from brokerwire.core.ctrader import conflation as ctrader_conflation
from brokerwire.core.tradovate import conflation as tradovate_conflation
from brokerwire.core.tradovate.conflation import Merge, Part

__all__ = ["EventBuffer", "market_parts"]


class _Slot:
    """Market data of one key in the queue: an update, or the merge of several."""

    __slots__ = ("event", "key", "merge", "size")

    def __init__(self, key: Hashable, event: Any, merge: Merge | None, size: int) -> None:
        self.key = key
        self.event = event
        self.merge = merge
        self.size = size


class _Kept:
    """A market-data part that is never conflated (a tick packet, a shape without an id),
    queued with the events that are not market data."""

    __slots__ = ("event",)

    def __init__(self, event: Any) -> None:
        self.event = event


class EventBuffer:
    """Events waiting for the consumer, conflation of market data, and the decision to pause or
    resume reading.

    Each queued entry is an event as it came, a ``_Slot`` (conflated market data) or a
    ``_Kept``; ``_sizes`` runs beside the entries with each one's bytes (a slot keeps its own).
    """

    def __init__(
        self,
        limit: int,
        max_bytes: int = 64 * 1024 * 1024,
        on_full: Literal["conflate", "pause"] = "conflate",
    ) -> None:
        if limit < 1:
            raise ValueError("the event queue needs room for at least one event")
        if max_bytes < 1:
            raise ValueError("the event queue needs room for at least one byte")
        if on_full not in ("conflate", "pause"):
            raise ValueError(f"on_full must be 'conflate' or 'pause', not {on_full!r}")
        self.limit = limit
        self.max_bytes = max_bytes
        self.strict = on_full == "pause"
        self.conflate_always = False
        self.ended = False
        self._entries: deque[Any] = deque()
        #: The queue itself, for a reader that asks whether anything waits (its truth, in C,
        #: where ``len(buffer)`` is a call into Python for every event). Read it, never change it.
        self.entries = self._entries
        self._sizes: deque[int] = deque()
        self._slots: dict[Hashable, _Slot] = {}
        self._bytes = 0
        self._kept = 0
        self._kept_bytes = 0
        self._carried = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def queued_bytes(self) -> int:
        """The wire bytes of the events in the queue (as estimated)."""
        return self._bytes

    @property
    def kept(self) -> int:
        """Events in the queue that are not market data."""
        return self._kept

    def snapshot(self) -> list[Any]:
        """The queued events in the order they will be taken, without taking them."""
        return [_unwrap(entry) for entry in self._entries]

    def push(self, events: list[Any], nbytes: int = 0) -> None:
        """Queue the events of one read of ``nbytes`` bytes (0 for events of no read). The
        bytes of a read that completed no event count with the next one that does."""
        count = len(events)
        if not count:
            self._carried += nbytes
            return
        nbytes += self._carried
        self._carried = 0
        share = nbytes // count
        if self.strict or (
            not self.conflate_always
            and len(self._entries) + count < self.limit
            and self._bytes + nbytes < self.max_bytes
        ):
            self._queue_as_they_come(events, share)
            return
        for event in events:
            split = _MARKET.get(type(event))
            if split is None:
                self._keep(event, share)
            elif self._conflating():
                self._conflate(split(event), share)
            else:
                self._queue_as_they_come([event], share)

    def pop(self) -> Any:
        entry = self._entries.popleft()
        size = self._sizes.popleft()
        kind = type(entry)
        if kind is _Slot:
            slot: _Slot = entry
            size = slot.size
            if self._slots.get(slot.key) is slot:
                del self._slots[slot.key]
            entry = slot.event
        elif kind not in _MARKET:
            self._kept -= 1
            self._kept_bytes -= size
            if kind is _Kept:
                entry = entry.event
        self._bytes -= size
        return entry

    @property
    def full(self) -> bool:
        """Reading should pause."""
        if self.strict:
            return len(self._entries) >= self.limit or self._bytes >= self.max_bytes
        return self._kept >= self.limit or self._kept_bytes >= self.max_bytes

    @property
    def drained(self) -> bool:
        """Reading may resume."""
        if self.strict:
            count, size = len(self._entries), self._bytes
        else:
            count, size = self._kept, self._kept_bytes
        return count <= self.limit // 2 and size <= self.max_bytes // 2

    # -- internals ---------------------------------------------------------------------------------

    def _conflating(self) -> bool:
        if self.conflate_always:
            return True
        if self.strict:
            return False
        return len(self._entries) >= self.limit or self._bytes >= self.max_bytes

    def _queue_as_they_come(self, events: list[Any], share: int) -> None:
        """Below the bounds (or never conflating): the events go in as they are."""
        if self._slots:
            # Updates queued from now on go after the slots: none may merge into one.
            self._slots.clear()
        count = len(events)
        kept = count - sum(map(_MARKET.__contains__, map(type, events)))
        self._entries.extend(events)
        self._sizes.extend(repeat(share, count))
        self._bytes += share * count
        self._kept += kept
        self._kept_bytes += share * kept

    def _keep(self, event: Any, size: int) -> None:
        self._entries.append(event)
        self._sizes.append(size)
        self._bytes += size
        self._kept += 1
        self._kept_bytes += size

    def _conflate(self, parts: list[Part], share: int) -> None:
        size = share // len(parts) if parts else 0
        for key, part, merge in parts:
            if key is None:
                self._keep(_Kept(part), size)
                continue
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _Slot(key, part, merge, size)
                self._entries.append(slot)
                self._sizes.append(0)
                self._bytes += size
                continue
            slot.event = merge(slot.event, part) if merge is not None else part
            self._bytes += size - slot.size
            slot.size = size


def _unwrap(entry: Any) -> Any:
    return entry.event if type(entry) is _Slot or type(entry) is _Kept else entry


# -- which events are market data, and how each kind merges: each broker's core says ------------


def market_parts(event: Any) -> list[Part] | None:
    """``event`` cut into its market-data parts, each with its conflation key and merge (a
    None key: a part that is never conflated); None when ``event`` is not market data."""
    split = _MARKET.get(type(event))
    return split(event) if split is not None else None


#: The market-data event types of both brokers, and how each is cut into conflatable parts.
_MARKET: dict[type, Callable[[Any], list[Part]]] = {
    **tradovate_conflation.MARKET_DATA,
    **ctrader_conflation.MARKET_DATA,
}
