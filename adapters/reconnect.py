"""When to try again: after the link went down (exponential backoff with jitter), and after a
server refused for a while (the wait it told, kept within bounds).

The n-th attempt waits ``initial_delay * multiplier ** (n - 1)``, capped at ``max_delay``, and
then scaled by a random factor in ``[1 - jitter, 1]`` so that many clients dropped together by
one server restart do not all come back in the same instant.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

__all__ = ["MAX_TOLD_WAIT", "SHORT_WAIT", "ReconnectPolicy", "told_wait", "untold_wait"]


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a client reconnects. ``max_attempts`` None tries for ever."""

    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    jitter: float = 0.5
    max_attempts: int | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < self.initial_delay:
            raise ValueError("need 0 <= initial_delay <= max_delay")
        if self.multiplier < 1:
            raise ValueError("multiplier must be at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter must be between 0 and 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None)")

    @classmethod
    def from_option(cls, option: bool | ReconnectPolicy) -> ReconnectPolicy | None:
        """A client's ``reconnect=`` option: True for the defaults, False for none."""
        if isinstance(option, ReconnectPolicy):
            return option
        return cls() if option else None

    def delay(self, attempt: int) -> float | None:
        """Seconds to wait before attempt number ``attempt`` (from 1); None: give up."""
        if self.max_attempts is not None and attempt > self.max_attempts:
            return None
        base = min(self.max_delay, self.initial_delay * self.multiplier ** min(attempt - 1, 64))
        return base * (1.0 - self.jitter * self.rng.random())


#: The longest wait a server can impose before a retry (Tradovate's lockouts last an hour).
MAX_TOLD_WAIT = 3600.0
#: A wait up to this long is waited on the same connection; a longer one closes it, and the
#: reconnect comes after the wait.
SHORT_WAIT = 5.0


def told_wait(value: object, default: float) -> float:
    """Seconds to wait as a server said (``p-time``, ``retryAfter``), never raising.

    A value that is not a number, or is NaN, zero or negative, gives ``default`` (a retry at
    once could go on at once for ever); a huge one (an integer of 400 digits, infinity) gives
    ``MAX_TOLD_WAIT``.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return default
    try:
        seconds = float(value)
    except OverflowError:  # an integer beyond a float's range
        return MAX_TOLD_WAIT
    except ValueError:
        return default
    if math.isnan(seconds) or seconds <= 0:
        return default
    return min(seconds, MAX_TOLD_WAIT)


def untold_wait(refusals: int) -> float:
    """The wait after the n-th refusal in a row (from 0) whose length the server did not say:
    1, 2, 4 ... up to 60 seconds."""
    return min(60.0, 2.0 ** min(max(refusals, 0), 6))
