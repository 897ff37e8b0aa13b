"""The reconnect loop both adapters drive, on its own: its steps for scripted outcomes of each
attempt, with a real engine and core but no socket and no clock."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import Any

import pytest

from brokerwire.adapters.endpoint import parse_url
from brokerwire.adapters.engine.ctrader import CTraderEngine
from brokerwire.adapters.engine.reconnect_loop import (
    CLOSED,
    GAVE_UP,
    Connect,
    ReconnectLoop,
    Step,
    Wait,
)
from brokerwire.adapters.errors import ConnectError
from brokerwire.adapters.events import Disconnected, Reconnected, ReconnectFailed
from brokerwire.adapters.reconnect import ReconnectPolicy

#: What one attempt does, given the loop and the engine: the events it gave the caller.
Outcome = Callable[[ReconnectLoop, CTraderEngine], list[Any]]


def refused(loop: ReconnectLoop, engine: CTraderEngine) -> list[Any]:
    """The socket could not be made."""
    return loop.connect_failed(ConnectionRefusedError(111, "Connection refused"))


def ready_then_lost(loop: ReconnectLoop, engine: CTraderEngine) -> list[Any]:
    """The socket came up, the session was ready (no credentials: ready at once over TCP),
    then the peer ended the stream."""
    events = engine.begin(0.0)
    assert engine.ready
    return events + engine.feed(b"", 0.0)


def not_ready(loop: ReconnectLoop, engine: CTraderEngine) -> list[Any]:
    """The socket came up, but the application was never authorized in time."""
    engine.client_id, engine.client_secret = "app", "app-secret"
    engine.begin(0.0)
    assert loop.connecting
    try:
        return loop.not_ready()
    finally:
        engine.client_id = engine.client_secret = None


def make_engine(reconnect: ReconnectPolicy | None) -> CTraderEngine:
    endpoint = parse_url("tcp://127.0.0.1:1", schemes=frozenset({"tcp"}))
    return CTraderEngine(
        endpoint, client_id=None, client_secret=None, access_token=None, reconnect=reconnect
    )


class Run:
    """The loop driven to its end: the steps it asked for and the events the caller got."""

    def __init__(
        self,
        outcomes: Iterable[Outcome],
        *,
        reconnect: ReconnectPolicy | None = None,
        close_at_step: int | None = None,
    ) -> None:
        self.engine = make_engine(reconnect)
        self.loop = ReconnectLoop(self.engine, connect_timeout=2.0)
        self.connected: Future[None] = Future()
        self.steps: list[Step] = []
        self.events: list[Any] = []
        pending = iter(outcomes)
        self.loop.start(self.connected)
        for step in self.loop.steps(lambda: len(self.steps) == close_at_step):
            self.steps.append(step)
            if isinstance(step, Connect):
                self.events += next(pending)(self.loop, self.engine)
            assert len(self.steps) < 100, "the loop does not end"
        self.rest = list(pending)
        self.events += self.loop.finish()


STEADY = ReconnectPolicy(initial_delay=0.5, multiplier=2.0, max_delay=30.0, jitter=0)


def test_the_first_attempt_comes_at_once_and_its_failure_ends_the_loop() -> None:
    run = Run([refused, ready_then_lost], reconnect=STEADY)
    assert run.steps == [Connect(0)]
    assert len(run.rest) == 1
    error = run.connected.exception(0)
    assert isinstance(error, ConnectError)
    assert "refused" in str(error)
    assert run.events == []
    assert run.engine.finished


def test_a_lost_link_is_tried_again_after_growing_waits_until_the_policy_gives_up() -> None:
    policy = ReconnectPolicy(initial_delay=0.5, multiplier=2.0, jitter=0, max_attempts=3)
    run = Run([ready_then_lost, refused, refused, refused], reconnect=policy)
    assert run.connected.result(0) is None
    assert run.steps == [
        Connect(0),
        Wait(0.5),
        Connect(1),
        Wait(1.0),
        Connect(2),
        Wait(2.0),
        Connect(3),
    ]
    assert run.rest == []
    assert run.loop.reason == GAVE_UP
    disconnected, failed = run.events
    assert type(disconnected) is Disconnected
    assert disconnected.reconnecting
    assert failed == ReconnectFailed(3, GAVE_UP)
    assert run.engine.finished


def test_a_link_ready_again_starts_the_backoff_over() -> None:
    outcomes = [ready_then_lost, refused, ready_then_lost, refused]
    run = Run(outcomes, reconnect=STEADY, close_at_step=8)
    assert run.steps == [
        Connect(0),
        Wait(0.5),
        Connect(1),
        Wait(1.0),
        Connect(2),
        Wait(0.5),
        Connect(1),
        Wait(1.0),
    ]
    kinds = [type(event) for event in run.events]
    assert kinds == [Disconnected, Reconnected, Disconnected, ReconnectFailed]
    assert run.events[1] == Reconnected(2, 0)
    assert run.events[-1] == ReconnectFailed(2, CLOSED)


def test_closing_during_a_wait_ends_the_loop_before_another_attempt() -> None:
    run = Run([ready_then_lost, ready_then_lost], reconnect=STEADY, close_at_step=2)
    assert run.steps == [Connect(0), Wait(0.5)]
    assert len(run.rest) == 1
    assert run.loop.reason == CLOSED
    assert run.events[-1] == ReconnectFailed(1, CLOSED)
    assert run.engine.finished


def test_closing_before_the_first_step_connects_nothing() -> None:
    run = Run([ready_then_lost], reconnect=STEADY, close_at_step=0)
    assert run.steps == []
    error = run.connected.exception(0)
    assert isinstance(error, ConnectError)
    assert str(error) == CLOSED


def test_without_reconnect_a_lost_link_ends_the_loop() -> None:
    run = Run([ready_then_lost, ready_then_lost], reconnect=None)
    assert run.steps == [Connect(0)]
    [disconnected] = run.events
    assert type(disconnected) is Disconnected
    assert not disconnected.reconnecting
    assert run.loop.reason == CLOSED


def test_a_session_not_ready_in_time_fails_the_first_connect() -> None:
    run = Run([not_ready], reconnect=STEADY)
    assert run.steps == [Connect(0)]
    error = run.connected.exception(0)
    assert isinstance(error, ConnectError)
    assert "not ready within 2 s" in str(error)
    assert isinstance(error.__cause__, TimeoutError)


def test_a_reconnect_not_ready_in_time_is_tried_again() -> None:
    policy = ReconnectPolicy(initial_delay=1.0, jitter=0, max_attempts=2)
    run = Run([ready_then_lost, not_ready, refused], reconnect=policy)
    assert run.steps == [Connect(0), Wait(1.0), Connect(1), Wait(2.0), Connect(2)]
    assert run.events[-1] == ReconnectFailed(2, GAVE_UP)


def connecting(loop: ReconnectLoop) -> bool:
    """Read through a call: mypy would keep an earlier check's narrowing of the property."""
    return loop.connecting


def test_connecting_is_true_only_while_the_session_opens() -> None:
    engine = make_engine(STEADY)
    loop = ReconnectLoop(engine, connect_timeout=1.0)
    assert connecting(loop) is False
    engine.client_id, engine.client_secret = "app", "app-secret"
    engine.begin(0.0)
    assert connecting(loop) is True
    engine.close(1.0)
    assert connecting(loop) is False


@pytest.mark.parametrize("failure", [None, "the reader thread failed"])
def test_finish_tells_the_first_connect_why(failure: str | None) -> None:
    engine = make_engine(STEADY)
    loop = ReconnectLoop(engine, connect_timeout=1.0)
    connected: Future[None] = Future()
    loop.start(connected)
    assert loop.finish(failure) == []
    error = connected.exception(0)
    assert isinstance(error, ConnectError)
    assert str(error) == (failure or CLOSED)
