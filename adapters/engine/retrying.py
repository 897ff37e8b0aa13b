"""Trying authorization again after a transient refusal, shared by both brokers' engines.

A server that answers ``authorize`` (or cTrader's application or account auth) with a rate limit
or a time penalty has not refused the credentials: it asked the client to wait. The engine waits
as told (``told_wait`` keeps the wait within bounds whatever the server sent) and sends the same
request again: on the same connection when the wait is short, its heartbeats keeping it alive;
otherwise it closes the connection and the reconnect waits at least as long. Only a real refusal
ends in ``AuthenticationError``. ``retry_on_link`` runs an action again on the same link after a
wait the caller chose (an account snapshot that failed), without counting it as a refusal.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from ..endpoint import Endpoint
from ..reconnect import SHORT_WAIT, ReconnectPolicy, told_wait, untold_wait
from .client_engine import Call, ClientEngine, CoreConnection, Phase, log

__all__ = ["RetryingEngine"]

ConnT = TypeVar("ConnT", bound=CoreConnection)
CallT = TypeVar("CallT", bound=Call)
Action = Callable[[float], None]


class RetryingEngine(ClientEngine[ConnT, CallT]):
    """A client engine that can run an action again later on the current link."""

    def __init__(self, endpoint: Endpoint, *, reconnect: ReconnectPolicy | None) -> None:
        super().__init__(endpoint, reconnect=reconnect)
        self._retries: dict[Hashable, tuple[float, Action]] = {}
        self._hold_off: float | None = None
        self._refusals = 0  # transient refusals since the link was last ready

    def retry_later(self, key: Hashable, told: Any, now: float, action: Action, what: str) -> None:
        """``what`` was refused for now: run ``action`` again once the wait ``told`` by the
        server (None: a growing one) is over. One pending retry per ``key``."""
        wait = told_wait(told, untold_wait(self._refusals))
        self._refusals += 1
        if wait <= SHORT_WAIT or self.phase is Phase.READY:
            log.warning("%s; trying again in %.3g s", what, wait)
            self._retries[key] = (now + wait, action)
        else:
            log.warning("%s; reconnecting in %.3g s", what, wait)
            self._hold_off = wait
            self.close_core(now)

    def retry_on_link(
        self, key: Hashable, wait: float, now: float, action: Action, what: str
    ) -> None:
        """``what`` failed on a link that stays up (an account snapshot not taken): run
        ``action`` on this link after ``wait`` seconds, whatever the phase. Not a refusal of
        the link: it neither closes it nor lengthens the waits of other retries. One pending
        retry per ``key``; a new link drops it."""
        log.warning("%s; trying again in %.3g s", what, wait)
        self._retries[key] = (now + wait, action)

    # -- the engine's contract, with the retries in it ---------------------------------------------

    def begin(self, now: float) -> list[Any]:
        self._retries.clear()
        return super().begin(now)

    def authorized(self, resubscribed: int) -> None:
        self._refusals = 0
        super().authorized(resubscribed)

    def next_deadline(self) -> float | None:
        deadline = super().next_deadline()
        if not self._retries:
            return deadline
        soonest = min(at for at, _ in self._retries.values())
        return soonest if deadline is None else min(deadline, soonest)

    def timer(self, now: float, *, reading_paused: bool = False) -> list[Any]:
        events = super().timer(now, reading_paused=reading_paused)
        if self._retries and not self.link_down:
            due = [key for key, (at, _) in self._retries.items() if at <= now]
            for key in due:
                _, action = self._retries.pop(key)
                action(now)
        return events

    def next_delay(self) -> float | None:
        """The reconnect's delay, at least the wait a server told before the link closed."""
        delay = super().next_delay()
        hold_off, self._hold_off = self._hold_off, None
        if delay is not None and hold_off is not None:
            delay = max(delay, hold_off)
        return delay
