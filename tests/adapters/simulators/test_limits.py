"""The budgets and armed refusals both simulators share, driven by ``now``."""

from __future__ import annotations

from brokerwire.adapters.simulators._limits import RateWindow, Refusals


def test_a_rate_window_admits_its_budget_in_any_second() -> None:
    window = RateWindow(3)
    assert [window.admit(t) for t in (10.0, 10.25, 10.5, 10.75)] == [True, True, True, False]
    assert window.free_in(10.75) == 0.25  # the request at 10.0 leaves the window at 11.0
    assert window.admit(10.875) is False  # a refused request does not count against the budget
    assert window.admit(11.0) is True
    assert window.free_in(11.0) == 0.25
    window.clear()
    assert window.free_in(11.0) == 0.0
    assert [window.admit(11.0) for _ in range(4)] == [True, True, True, False]


def test_refusals_are_taken_once_each_in_order_and_per_kind() -> None:
    refusals = Refusals()
    refusals.arm("authorize", 1.5, times=2)
    refusals.arm("authorize", None)
    refusals.arm(2137, 3)
    assert refusals.take(2137) == (True, 3)
    assert refusals.take(2137) == (False, None)
    taken = [refusals.take("authorize") for _ in range(4)]
    assert taken == [(True, 1.5), (True, 1.5), (True, None), (False, None)]
