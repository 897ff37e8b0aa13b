"""What the account-state reducers of both brokers share.

A reducer (``tradovate.account``, ``ctrader.account``) holds what an account holds, in maps keyed
by id, and turns a snapshot and then the events that follow it into the current state plus a
list of typed changes. After a reconnect the client starts a new epoch (``begin_resync``): the
reducer holds the new connection's events until the new snapshot arrives, then reports the
differences between what it held and that snapshot (with the held events replayed on top), so
one stream of changes never mixes two epochs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import msgspec

__all__ = ["Change", "decimal_of", "differences"]

K = TypeVar("K")
V = TypeVar("V")


class Change(msgspec.Struct, frozen=True, gc=False):
    """Base of every change a reducer reports: something held was added, changed or removed.

    Changes of held entities carry ``before`` (None when added) and ``after`` (None when
    removed); reported-only changes (a cTrader deal, an order error) carry what happened.
    """


def _as_is(key: object) -> Any:
    return key


def differences(
    before: Mapping[K, V], after: Mapping[K, V]
) -> Iterator[tuple[K, V | None, V | None]]:
    """``(key, before, after)`` for each key whose value differs between the two maps.

    Keys (ids, or tuples of ids) come sorted, so the same two maps always give the same
    changes in the same order.
    """
    keys = sorted(before.keys() | after.keys(), key=_as_is)
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old != new:
            yield key, old, new


def decimal_of(value: float) -> Decimal:
    """A float from the wire as the exact decimal it was written as: ``0.1`` -> ``Decimal("0.1")``.

    JSON numbers arrive as floats; ``repr`` gives the shortest text that reads back as the same
    float, which is the number as the server wrote it, where ``Decimal(0.1)`` would give the
    float's binary expansion.
    """
    return Decimal(repr(value))
