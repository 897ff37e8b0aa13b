"""Request budgets (at most N requests in any window of W seconds, on the caller's clock), and
the queue of requests that wait for them."""

from __future__ import annotations

from collections import deque

__all__ = ["Held", "RateBudget", "ReleaseQueue"]


class RateBudget:
    """A sliding window: no more than ``limit`` acquisitions in any ``window`` seconds.

    A request that does not fit waits (the connection queues it); nothing is ever dropped.
    """

    def __init__(self, limit: int, window: float = 1.0) -> None:
        if limit < 1:
            raise ValueError("a rate budget needs a limit of at least 1")
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def __repr__(self) -> str:
        return f"<RateBudget {len(self._times)}/{self.limit} per {self.window:g} s>"

    def _expire(self, now: float) -> None:
        times = self._times
        while times and times[0] + self.window <= now:
            times.popleft()

    def has_room(self, now: float) -> bool:
        """Whether one unit of budget is free at ``now``."""
        self._expire(now)
        return len(self._times) < self.limit

    def try_acquire(self, now: float) -> bool:
        """Take one unit of budget at ``now`` if there is one."""
        self._expire(now)
        if len(self._times) < self.limit:
            self._times.append(now)
            return True
        return False

    def next_free(self, now: float) -> float:
        """The earliest time at or after ``now`` when one unit will be free."""
        self._expire(now)
        if len(self._times) < self.limit:
            return now
        return self._times[0] + self.window


class Held:
    """A request the budgets hold back: its place in line, its id and its bytes.

    ``withdrawn`` is set when it gets its outcome (a timeout) or the caller takes it back
    before it leaves; the queue then skips it when it reaches the front, rather than searching
    the line for it.
    """

    __slots__ = ("client_msg_id", "data", "payload_type", "seq", "withdrawn")

    def __init__(self, seq: int, client_msg_id: str, payload_type: int, data: bytes) -> None:
        self.seq = seq
        self.client_msg_id = client_msg_id
        self.payload_type = payload_type
        self.data = data
        self.withdrawn = False


class ReleaseQueue:
    """Requests waiting for a rate budget, or for a payload type the server blocked a while.

    One line per payload type, in the order the requests were made. A release takes, again and
    again, the earliest request at the front of a line whose type is not blocked and whose
    budget has room; so requests leave in order within each budget, and a blocked type holds
    back only its own. Every operation costs time in proportion to the number of payload types
    waiting (a handful; at most the number of request types), never to the number of requests:
    each request is put in a line once and leaves it once, and a withdrawn one is dropped when
    it reaches the front.
    """

    def __init__(
        self, budget: RateBudget, historical: RateBudget, historical_types: frozenset[int]
    ) -> None:
        self._budget = budget
        self._historical = historical
        self._historical_types = historical_types
        self._lines: dict[int, deque[Held]] = {}
        self._next_seq = 0
        self._waiting = 0
        #: payload type -> the time until which the server asked not to send it
        self.blocked_until: dict[int, float] = {}

    def __len__(self) -> int:
        """How many requests wait (withdrawn ones not counted)."""
        return self._waiting

    def push(self, client_msg_id: str, payload_type: int, data: bytes) -> Held:
        # An exact copy, whatever buffer the bytes came from: an encoder that over-allocates its
        # output once made a line of 20,000 waiting requests hold 80 MiB.
        held = Held(self._next_seq, client_msg_id, payload_type, bytes(memoryview(data)))
        self._next_seq += 1
        line = self._lines.get(payload_type)
        if line is None:
            line = self._lines[payload_type] = deque()
        line.append(held)
        self._waiting += 1
        return held

    def withdraw(self, held: Held) -> None:
        """Take a request out of line (it had its outcome, or its caller gave up on it)."""
        if not held.withdrawn:
            held.withdrawn = True
            self._waiting -= 1

    def clear(self) -> None:
        self._lines.clear()
        self._waiting = 0

    def _budget_of(self, payload_type: int) -> RateBudget:
        return self._historical if payload_type in self._historical_types else self._budget

    def _fronts(self) -> list[tuple[int, deque[Held]]]:
        """The lines that still hold a request, each with a live request at its front."""
        fronts = []
        emptied = []
        for payload_type, line in self._lines.items():
            while line and line[0].withdrawn:
                line.popleft()
            if line:
                fronts.append((payload_type, line))
            else:
                emptied.append(payload_type)
        for payload_type in emptied:
            del self._lines[payload_type]
        return fronts

    def release(self, now: float) -> list[Held]:
        """Every request that may leave at ``now``, in the order to send them."""
        released: list[Held] = []
        if not self._waiting:
            return released
        fronts = self._fronts()
        while fronts:
            best: deque[Held] | None = None
            for payload_type, line in fronts:
                blocked = self.blocked_until.get(payload_type)
                if blocked is not None and blocked > now:
                    continue
                if not self._budget_of(payload_type).has_room(now):
                    continue
                if best is None or line[0].seq < best[0].seq:
                    best = line
            if best is None:
                break
            held = best.popleft()
            self._budget_of(held.payload_type).try_acquire(now)
            self._waiting -= 1
            held.withdrawn = True  # out of line for good
            released.append(held)
            while best and best[0].withdrawn:
                best.popleft()
            if not best:
                fronts = [(t, line) for t, line in fronts if line]
        return released

    def next_release(self, now: float) -> float | None:
        """When the first waiting request could leave (None when none waits)."""
        if not self._waiting:
            return None
        soonest: float | None = None
        for payload_type, _ in self._fronts():
            at = self._budget_of(payload_type).next_free(now)
            blocked = self.blocked_until.get(payload_type)
            if blocked is not None and blocked > at:
                at = blocked
            if soonest is None or at < soonest:
                soonest = at
        return soonest
