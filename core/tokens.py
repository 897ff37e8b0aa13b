"""When to renew an access token: one schedule for both brokers, driven by ``now``.

A token is known by two times on the caller's monotonic clock: when it was received and when
it expires. Renewal is due 15 minutes (``lead``) before expiry, as Tradovate advises, but never
before three quarters (``fraction``) of the token's lifetime have passed, so that a token that
lives less than ``lead`` (a simulator's two-second token, a short-lived grant) is renewed once
per lifetime rather than in a loop. A 90-minute Tradovate token is renewed after 75 minutes, a
30-day cTrader token 15 minutes before its end, a 2-second token after 1.5 seconds.

After a failed attempt the next one comes after a backoff (``retry_initial`` seconds, doubled
after each failure up to ``retry_max``), but never later than halfway to expiry, so that
attempts crowd in as the end nears; none is scheduled at or after expiry. Once ``now`` reaches
the expiry the status is ``EXPIRED`` and nothing is due: a new sign-in is needed.

The schedule reads no clock: every call takes ``now``, and ``next_deadline()`` tells the
caller when to look again, as every core connection does. Brokers give expiry in two ways:
cTrader as a lifetime in seconds (``expires_at = now + expiresIn``), Tradovate as a UTC wall
time, which ``expiry_on_monotonic_clock`` places on the caller's clock.

``TokenFailure`` is the one failed outcome of every token exchange of both brokers.
"""

from __future__ import annotations

import enum
import math
from datetime import datetime

from ._event import Event
from ._guards import check_duration
from ._timers import earliest
from .errors import LocalProtocolError
from .http.events import Failed, Response, TimedOut

__all__ = [
    "DEFAULT_LEAD",
    "RenewalSchedule",
    "TokenFailure",
    "TokenStatus",
    "expiry_on_monotonic_clock",
    "failure_of_exchange",
    "failure_of_status",
]

DEFAULT_LEAD = 15 * 60.0


class TokenFailure(Event, frozen=True):
    """A token exchange that gave no token.

    ``final`` means asking again the same way cannot help (wrong credentials, a CAPTCHA, a
    token the server no longer accepts): the user must act. Otherwise the failure is passing
    (no answer, a server error) and the schedule's backoff applies. ``status_code`` is the
    HTTP status when an answer arrived.
    """

    reason: str
    status_code: int | None = None
    final: bool = False


def failure_of_exchange(event: Failed | TimedOut) -> TokenFailure:
    """The passing failure an exchange that got no answer stands for."""
    if isinstance(event, TimedOut):
        return TokenFailure(f"no answer within {event.timeout:g} s")
    return TokenFailure(event.error.message)


def failure_of_status(response: Response, what: str) -> TokenFailure:
    """A non-2xx answer as a failure: 4xx (but 408 and 429) is final, the rest passing."""
    status = response.status_code
    final = 400 <= status < 500 and status not in (408, 429)
    detail = response.reason or (response.body[:200].decode("utf-8", "replace"))
    return TokenFailure(f"{what} answered HTTP {status} {detail}".rstrip(), status, final)


def expiry_on_monotonic_clock(expires: datetime, wall_time: datetime, now: float) -> float:
    """A wall-clock expiry as a time on the caller's monotonic clock.

    ``wall_time`` is the wall time at which ``now`` was read: the answer's ``Date`` header (on
    the server's clock, like ``expires``, so the local clock's error does not count) or the
    caller's UTC clock. Both datetimes must be timezone-aware.
    """
    if expires.tzinfo is None or wall_time.tzinfo is None:
        raise LocalProtocolError("expiry and wall times must be timezone-aware")
    return now + (expires - wall_time).total_seconds()


class TokenStatus(enum.Enum):
    """NONE: no token yet. VALID: nothing to do before ``next_deadline()``. DUE: renew now.
    RENEWING: an attempt is under way. EXPIRED: the token is over; sign in again."""

    NONE = "none"
    VALID = "valid"
    DUE = "due"
    RENEWING = "renewing"
    EXPIRED = "expired"


class RenewalSchedule:
    """When to renew one token; see the module's text for the rules."""

    def __init__(
        self,
        *,
        lead: float = DEFAULT_LEAD,
        fraction: float = 0.75,
        retry_initial: float = 5.0,
        retry_max: float = 300.0,
    ) -> None:
        check_duration("lead", lead)
        check_duration("retry_initial", retry_initial, positive=True)
        check_duration("retry_max", retry_max, positive=True)
        if not 0.0 < fraction < 1.0:
            raise LocalProtocolError(f"fraction must lie between 0 and 1, not {fraction!r}")
        self.lead = lead
        self.fraction = fraction
        self.retry_initial = retry_initial
        self.retry_max = max(retry_max, retry_initial)
        self.received_at: float | None = None
        self.expires_at: float | None = None
        self.renew_at: float | None = None
        self.failures = 0
        self._renewing = False

    def __repr__(self) -> str:
        return (
            f"<RenewalSchedule received_at={self.received_at!r} expires_at={self.expires_at!r} "
            f"renew_at={self.renew_at!r} failures={self.failures}>"
        )

    def token_received(self, now: float, expires_at: float) -> None:
        """A new token arrived at ``now``; it expires at ``expires_at`` (same clock)."""
        if not (math.isfinite(now) and math.isfinite(expires_at)):
            raise LocalProtocolError(f"times must be finite, not {now!r} and {expires_at!r}")
        lifetime = max(expires_at - now, 0.0)
        self.received_at = now
        self.expires_at = expires_at
        self.renew_at = now + max(lifetime - self.lead, lifetime * self.fraction)
        self.failures = 0
        self._renewing = False

    def attempt_started(self, now: float) -> None:
        """A renewal is under way: nothing is due until it succeeds or fails."""
        if self.status(now) is not TokenStatus.DUE:
            raise LocalProtocolError(f"no renewal is due: the token is {self.status(now).value}")
        self._renewing = True

    def attempt_failed(self, now: float) -> None:
        """The renewal failed at ``now``: schedule the next attempt (none after expiry)."""
        if self.expires_at is None:
            raise LocalProtocolError("no token to renew")
        self._renewing = False
        self.failures += 1
        backoff = min(self.retry_initial * 2.0 ** (self.failures - 1), self.retry_max)
        remaining = self.expires_at - now
        delay = max(self.retry_initial, min(backoff, remaining / 2))
        self.renew_at = now + delay if now + delay < self.expires_at else None

    def status(self, now: float) -> TokenStatus:
        if self.expires_at is None:
            return TokenStatus.NONE
        if now >= self.expires_at:
            return TokenStatus.EXPIRED
        if self._renewing:
            return TokenStatus.RENEWING
        if self.renew_at is not None and now >= self.renew_at:
            return TokenStatus.DUE
        return TokenStatus.VALID

    def next_deadline(self) -> float | None:
        """The next time the status changes by itself: renewal due, or expiry (which stays the
        answer once passed: a caller stops at ``EXPIRED``)."""
        renew_at = None if self._renewing else self.renew_at
        return earliest(renew_at, self.expires_at)
