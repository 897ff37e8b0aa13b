"""What an order handle shows, whatever the broker: its status, fills and the server's id.

A client that places an order with a handle follows it through the broker's own tracker
(``tradovate.orders``, ``ctrader.orders``), which turns answers, events and snapshots into an
``OrderView`` per handle. Both trackers keep one rule for an order whose answer was lost with
the link: it is never sent again; its view says ``UNKNOWN`` until the first snapshot of the new
link shows whether the server holds it, then follows what the server holds (``NOT_PLACED`` when
it holds nothing). ``SnapshotGate`` is the epoch rule both clients use for those snapshots.
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Mapping
from typing import Any, Final, Generic, Protocol, TypeVar

import msgspec

__all__ = [
    "FINAL_STATUSES",
    "OrderFill",
    "OrderStatus",
    "OrderTracker",
    "OrderView",
    "SnapshotGate",
    "average_price",
]


class OrderStatus(enum.Enum):
    """Where an order stands, in words both brokers share."""

    SENT = "sent"
    """Sent; no answer yet."""
    WORKING = "working"
    """Held by the server and not final (pending, resting, partly filled)."""
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    """Refused: the answer's error, or the server's rejection."""
    EXPIRED = "expired"
    UNKNOWN = "unknown"
    """The answer was lost with the link; the next snapshot tells (the order is not resent)."""
    NOT_PLACED = "not_placed"
    """The snapshot after a lost answer shows the server never took the order."""


#: Statuses an order does not leave.
FINAL_STATUSES: Final = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELLED,
        OrderStatus.REJECTED,
        OrderStatus.EXPIRED,
        OrderStatus.NOT_PLACED,
    }
)


class OrderFill(msgspec.Struct, frozen=True, gc=False):
    """One execution of an order: its id at the broker (fill or deal id), quantity (contracts
    for Tradovate, volume in cents of a unit for cTrader) and price."""

    fill_id: int | None
    quantity: int
    price: float


class OrderView(msgspec.Struct, frozen=True, gc=False):
    """A handle's order at one moment, as a plain value."""

    key: int
    """The handle's number in its client."""
    status: OrderStatus
    order_id: int | None = None
    """The server's order id, once known."""
    fills: tuple[OrderFill, ...] = ()
    error: str | None = None
    """Why the order was refused or rejected."""

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def filled_quantity(self) -> int:
        return sum(fill.quantity for fill in self.fills)

    @property
    def average_price(self) -> float | None:
        """The volume-weighted price of the fills; None before the first."""
        return average_price(self.fills)


def average_price(fills: tuple[OrderFill, ...]) -> float | None:
    quantity = sum(fill.quantity for fill in fills)
    if quantity <= 0:
        return None
    return sum(fill.price * fill.quantity for fill in fills) / quantity


class Followed(Protocol):
    """What a tracker keeps per handle: the view, and whatever its broker finds the order by."""

    view: OrderView


F = TypeVar("F", bound=Followed)


class OrderTracker(Generic[F]):
    """Handles by key, and the order each follows: what both brokers' trackers share. A broker's
    tracker adds how answers, events and snapshots change a view, and its own indexes (which
    ``_forget`` drops when a handle ends)."""

    def __init__(self) -> None:
        self._followed: dict[int, F] = {}

    def __len__(self) -> int:
        return len(self._followed)

    def refused(self, key: int, error: str) -> list[OrderView]:
        """The server refused the order: final."""
        return self._end(key, OrderStatus.REJECTED, error)

    def not_placed(self, key: int, reason: str) -> list[OrderView]:
        """The request never left (the link went down first): final, nothing to find."""
        return self._end(key, OrderStatus.NOT_PLACED, reason)

    def pending(self) -> list[int]:
        """The keys of handles still waiting for an answer (``SENT``)."""
        return [k for k, f in self._followed.items() if f.view.status is OrderStatus.SENT]

    def lost(self, key: int) -> list[OrderView]:
        """The answer was lost with the link: unknown until the next snapshot."""
        followed = self._followed.get(key)
        if followed is None or followed.view.status is not OrderStatus.SENT:
            return []
        followed.view = msgspec.structs.replace(followed.view, status=OrderStatus.UNKNOWN)
        return [followed.view]

    def _end(self, key: int, status: OrderStatus, error: str) -> list[OrderView]:
        followed = self._followed.get(key)
        if followed is None:
            return []
        return self._settle(key, msgspec.structs.replace(followed.view, status=status, error=error))

    def _settle(self, key: int, view: OrderView) -> list[OrderView]:
        """Set a handle's view; a final one is forgotten."""
        followed = self._followed[key]
        followed.view = view
        if view.final:
            del self._followed[key]
            self._forget(followed)
        return [view]

    def _forget(self, followed: F) -> None:
        """Drop what the broker's tracker indexes a handle that has ended by."""


K = TypeVar("K", bound=Hashable)


class SnapshotGate(Generic[K]):
    """The epoch rule of one snapshot target (a Tradovate user, a cTrader account).

    ``begin(target)`` starts a new epoch (the link came back, the account was authorized
    again) and returns its number, which the client sends its snapshot requests with.
    ``take(target, epoch, part, value)`` files one answer; it returns every part once the last
    of ``parts`` is in, and only for the target's current epoch: an answer of an earlier epoch
    (a snapshot asked for before the account was disconnected again) is dropped, so a state
    never takes parts of two epochs. ``lost(target)`` ends the epoch without a snapshot.
    """

    def __init__(self, parts: frozenset[str]) -> None:
        self.parts = parts
        self._epochs: dict[K, int] = {}
        self._taken: dict[K, dict[str, Any]] = {}
        self._wanted: dict[K, frozenset[str]] = {}

    def begin(self, target: K, parts: frozenset[str] | None = None) -> int:
        """A new epoch for ``target``, whose snapshot is ``parts`` (by default the gate's)."""
        epoch = self._epochs.get(target, 0) + 1
        self._epochs[target] = epoch
        self._taken[target] = {}
        self._wanted[target] = self.parts if parts is None else parts
        return epoch

    def current(self, target: K) -> int | None:
        """The epoch whose snapshot is awaited, or None."""
        return self._epochs.get(target) if target in self._taken else None

    def lost(self, target: K) -> None:
        self._taken.pop(target, None)

    def take(self, target: K, epoch: int, part: str, value: Any) -> Mapping[str, Any] | None:
        taken = self._taken.get(target)
        if taken is None or self._epochs.get(target) != epoch:
            return None
        wanted = self._wanted[target]
        if part not in wanted:
            raise ValueError(f"snapshot part {part!r} was not asked for")
        taken[part] = value
        if taken.keys() < wanted:
            return None
        del self._taken[target]
        return taken
