"""The epoch rule inside a client's engine, without a socket: a snapshot answered for an
earlier link is dropped, and events read before the current one's answer are held and replayed
on top of it, so the changes never mix two epochs."""

from __future__ import annotations

from typing import Any, cast

import msgspec

from brokerwire.adapters.engine.tradovate_state import TradovateTracking
from brokerwire.adapters.events import AccountSynced
from brokerwire.core.tradovate import (
    EntityChanged,
    EntityEventType,
    ErrorResponse,
    Penalty,
    RateLimited,
    RequestTimedOut,
    Response,
)
from brokerwire.core.tradovate.account import AccountChanged, PositionChanged
from brokerwire.core.tradovate.messages import SYNC_ENDPOINT, sync_snapshot_of
from brokerwire.core.tradovate.models import SyncSnapshot
from tests.core.tradovate.test_account import _account, _position


class _Conn:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.bodies: list[Any] = []

    def request(self, endpoint: str, query: Any, body: Any, timeout: Any, *, now: Any) -> int:
        self.sent.append(endpoint)
        self.bodies.append(body)
        return len(self.sent)


class _Engine:
    """What the tracking asks of its engine."""

    def __init__(self) -> None:
        self.conn = _Conn()
        self.ready = True
        self.waiting: dict[int, Any] = {}
        self.out: list[Any] = []
        self.retries: list[Any] = []
        self.on_link: dict[Any, tuple[float, Any]] = {}

    def wait_internal(self, request_id: int, on_outcome: Any) -> None:
        self.waiting[request_id] = on_outcome

    def emit(self, event: Any) -> None:
        self.out.append(event)

    def retry_later(self, key: Any, told: Any, now: float, action: Any, what: str) -> None:
        self.retries.append((told, action))

    def retry_on_link(self, key: Any, wait: float, now: float, action: Any, what: str) -> None:
        self.on_link[key] = (wait, action)


def _answer(request_id: int, **parts: Any) -> Response:
    """A sync answer as the connection gives it: typed, as it fits the model."""
    return Response(request_id, 200, sync_snapshot_of(SYNC_ENDPOINT, parts), SYNC_ENDPOINT)


def _tracking() -> tuple[TradovateTracking, _Engine]:
    engine = _Engine()
    return TradovateTracking(cast(Any, engine), user_id=7), engine


def _account_dict(account_id: int) -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(_account(account_id, 1))
    return built


def test_the_answer_of_an_earlier_link_is_dropped() -> None:
    tracking, engine = _tracking()
    ready: list[int] = []
    tracking.sync(0.0, lambda: ready.append(1))
    tracking.lost()  # the link dropped before the answer
    tracking.sync(1.0, lambda: ready.append(2))
    engine.waiting[1](_answer(1, accounts=[_account_dict(1)]), 1.0)
    assert engine.out == []
    assert ready == []
    engine.waiting[2](_answer(2, accounts=[_account_dict(2)]), 1.0)
    assert [type(e) for e in engine.out] == [AccountChanged, AccountSynced]
    assert engine.out[0].account_id == 2
    assert ready == [2]
    assert set(tracking.snapshot().accounts) == {2}


def test_events_before_the_answer_are_held_then_replayed_on_it() -> None:
    tracking, engine = _tracking()
    tracking.sync(0.0, lambda: None)
    created = EntityChanged("position", EntityEventType.CREATED, _position(5, 1, 9, 2))
    tracking.observe(created)
    assert engine.out == []  # held: the epoch has no snapshot yet
    engine.waiting[1](_answer(1, accounts=[_account_dict(1)]), 0.0)
    kinds = [type(e) for e in engine.out]
    assert kinds == [AccountChanged, PositionChanged, AccountSynced]
    engine.out.clear()
    moved = EntityChanged("position", EntityEventType.UPDATED, _position(5, 1, 9, 0))
    tracking.observe(moved)
    assert [type(e) for e in engine.out] == [PositionChanged]  # after it: applied at once
    assert tracking.snapshot().accounts[1].positions == ()


def test_a_state_with_no_snapshot_awaited_holds_nothing() -> None:
    tracking, engine = _tracking()
    tracking.sync(0.0, lambda: None)
    engine.waiting[1](Response(1, 200, {"errorText": "no"}, "user/syncrequest"), 0.0)
    tracking.observe(EntityChanged("position", EntityEventType.CREATED, _position(5, 1, 9, 2)))
    assert engine.out == []
    assert tracking.awaiting is False


def test_an_answer_the_model_refuses_keeps_the_state_as_it_was() -> None:
    """A sync answer that is not a snapshot (a refusal, or entities the model refuses) is not
    read as an empty one: the state held stays, no change is emitted, and the link goes on."""
    tracking, engine = _tracking()
    tracking.sync(0.0, lambda: None)
    engine.waiting[1](_answer(1, accounts=[_account_dict(1)]), 0.0)
    engine.out.clear()
    ready: list[int] = []
    refused = {"accounts": [{"id": "not a number"}]}
    assert not isinstance(sync_snapshot_of(SYNC_ENDPOINT, refused), SyncSnapshot)
    for number, data in enumerate([refused, {"errorText": "no"}, None], start=2):
        tracking.lost()
        tracking.sync(float(number), lambda number=number: ready.append(number))
        engine.waiting[number](Response(number, 200, data, SYNC_ENDPOINT), float(number))
    assert engine.out == []
    assert ready == [2, 3, 4]
    assert set(tracking.snapshot().accounts) == {1}


def test_a_sync_answered_with_a_penalty_or_429_is_asked_again_after_the_wait() -> None:
    """A time penalty asks the client to wait, not to give up: the sync goes again with the
    penalty's ticket once the wait is over, and the epoch is synced by that answer."""
    tracking, engine = _tracking()
    ready: list[int] = []
    tracking.sync(0.0, lambda: ready.append(1))
    engine.waiting[1](Penalty(1, "ticket-1", 0.5, False, SYNC_ENDPOINT), 0.0)
    ((told, again),) = engine.retries
    assert told == 0.5
    again(0.5)
    assert engine.conn.bodies[1] == {"users": [7], "p-ticket": "ticket-1"}
    engine.waiting[2](RateLimited(2, "too many", SYNC_ENDPOINT), 0.5)
    assert engine.retries[1][0] is None
    engine.retries[1][1](1.5)
    assert engine.conn.bodies[2] == {"users": [7]}
    assert engine.out == []
    assert ready == []
    engine.waiting[3](_answer(3, accounts=[_account_dict(1)]), 1.5)
    assert [type(e) for e in engine.out] == [AccountChanged, AccountSynced]
    assert ready == [1]


def _position_dict(position_id: int, net: int) -> dict[str, Any]:
    built: dict[str, Any] = msgspec.to_builtins(_position(position_id, 1, 9, net))
    return built


def test_a_resync_that_fails_is_asked_again_after_a_growing_wait_until_one_is_taken() -> None:
    """A re-sync on a live link refused, then not answered in time, is asked again each time
    (a new epoch, 1 s then 2 s later) instead of leaving the state unsynced until the link
    drops; the snapshot finally taken is the truth, and events held for a failed epoch are not
    replayed on it."""
    tracking, engine = _tracking()
    tracking.sync(0.0, lambda: None)
    engine.waiting[1](_answer(1, accounts=[_account_dict(1)]), 0.0)
    engine.out.clear()
    tracking.resync_now(1.0)  # an order's answer timed out
    stale = EntityChanged("position", EntityEventType.CREATED, _position(5, 1, 9, 2))
    tracking.observe(stale)  # held for epoch 2, which fails
    engine.waiting[2](ErrorResponse(2, 500, "Try later", SYNC_ENDPOINT), 1.0)
    assert (tracking.state.synced, tracking.awaiting) == (False, False)
    wait, again = engine.on_link.pop("resync")
    assert wait == 1.0
    again(2.0)
    assert engine.conn.sent == [SYNC_ENDPOINT] * 3
    engine.waiting[3](RequestTimedOut(3, SYNC_ENDPOINT, 60.0), 62.0)
    wait, again = engine.on_link.pop("resync")
    assert wait == 2.0
    again(64.0)
    engine.waiting[3](_answer(3, accounts=[_account_dict(2)]), 64.0)  # too late: dropped
    assert engine.out == []
    engine.waiting[4](
        _answer(4, accounts=[_account_dict(1)], positions=[_position_dict(6, 1)]), 64.0
    )
    assert [type(e) for e in engine.out] == [PositionChanged, AccountSynced]
    assert engine.out[-1].epoch == 4
    assert tracking.state.synced
    assert engine.on_link == {}
    assert set(tracking.snapshot().accounts) == {1}
    assert [p.id for p in tracking.state.positions.values()] == [6]


def test_a_retry_is_not_sent_when_another_sync_began_meanwhile() -> None:
    tracking, engine = _tracking()
    tracking.sync(0.0, lambda: None)
    engine.waiting[1](Response(1, 200, {"errorText": "no"}, SYNC_ENDPOINT), 0.0)
    _, again = engine.on_link.pop("resync")
    tracking.lost()
    tracking.sync(0.5, lambda: None)  # the next link's sync
    again(1.0)
    assert engine.conn.sent == [SYNC_ENDPOINT] * 2
