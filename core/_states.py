"""States as data: each connection's moves are one table, in the style of h11's ``_state.py``.

A connection class declares its states (an ``enum.Enum``), the inputs that move it (another:
what happened, such as "the server's open frame came" or "the caller closed"), and a table
from ``(state, input)`` to the next state. It changes state in one method, which looks the pair
up with ``move``. A pair missing from the table cannot happen, or is the caller's mistake (close
twice): ``move`` raises ``LocalProtocolError`` for it. The tables are exported so a test can
walk every pair against a table of its own, and a reader can see a connection's life at once.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

from .errors import LocalProtocolError

__all__ = ["Transitions", "move"]

StateT = TypeVar("StateT", bound=enum.Enum)
InputT = TypeVar("InputT", bound=enum.Enum)

#: ``(state, input) -> next state``; a missing pair is refused.
Transitions = Mapping[tuple[StateT, InputT], StateT]


def move(table: Transitions[StateT, InputT], state: StateT, happened: InputT) -> StateT:
    """The state after ``happened`` in ``state``; raises ``LocalProtocolError`` when the table
    has no such move (the only one a caller can reach is closing a connection twice)."""
    try:
        return table[state, happened]
    except KeyError:
        raise LocalProtocolError(
            f"cannot {happened.value}: the connection is already {state.value}"
        ) from None
