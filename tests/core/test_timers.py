"""The timer pieces the protocol connections share."""

from __future__ import annotations

from brokerwire.core._timers import Deadlines, IdleHeartbeat, earliest


def test_earliest() -> None:
    assert earliest() is None
    assert earliest(None, None) is None
    assert earliest(None, 5.0, 2.5, None) == 2.5


def test_idle_heartbeat_beats_only_after_a_quiet_interval() -> None:
    beat = IdleHeartbeat(2.5)
    assert beat.due is None
    assert beat.check(100.0) is False, "not started"
    beat.start(0.0)
    assert beat.due == 2.5
    assert beat.check(2.4) is False
    assert beat.check(2.5) is True
    assert beat.due == 5.0
    beat.note_sent()
    assert beat.check(5.0) is False, "something was sent during the interval"
    assert beat.due == 7.5
    assert beat.check(7.5) is True


def test_idle_heartbeat_off() -> None:
    beat = IdleHeartbeat(None)
    beat.start(0.0)
    assert beat.due is None
    assert beat.check(1e9) is False


def test_deadlines_soonest_skips_settled_keys_and_pop_due() -> None:
    deadlines: Deadlines[str] = Deadlines()
    assert deadlines.soonest(set()) is None
    for deadline, key in [(5.0, "b"), (3.0, "a"), (9.0, "c")]:
        deadlines.add(deadline, key)
    assert deadlines.soonest({"a", "b", "c"}) == 3.0
    assert deadlines.soonest({"b", "c"}) == 5.0, "'a' was settled elsewhere"
    assert deadlines.pop_due(4.9) == []
    assert deadlines.pop_due(9.0) == ["b", "c"]
    assert deadlines.soonest({"b", "c"}) is None
    deadlines.add(1.0, "d")
    deadlines.clear()
    assert deadlines.pop_due(100.0) == []
