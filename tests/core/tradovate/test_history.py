"""ChartHistory: the md/getChart requests that cover a range, and each bar once, oldest first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tradovate.history import ChartHistory, wire_time
from brokerwire.core.tradovate.market import Bar

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DESCRIPTION = {
    "underlyingType": "MinuteBar",
    "elementSize": 1,
    "elementSizeUnit": "UnderlyingUnits",
}


def bar(when: datetime) -> Bar:
    return Bar(wire_time(when), 1, 2, 0, 1)


def minutes(first: datetime, count: int) -> list[Bar]:
    return [bar(first + timedelta(minutes=k)) for k in range(count)]


def serve(plan: ChartHistory, available: list[Bar], batch: int) -> int:
    """Answer the plan as a server holding ``available`` would, ``batch`` bars a request."""
    while (body := plan.next_request()) is not None:
        closest = body["timeRange"]["closestTimestamp"]
        farthest = body["timeRange"]["asFarAsTimestamp"]
        fitting = [b for b in available if farthest <= b.timestamp <= closest]
        plan.take(fitting[-batch:])
    return plan.requests


def test_a_range_longer_than_a_batch_takes_several_requests_and_arrives_whole() -> None:
    end = START + timedelta(minutes=1199)
    plan = ChartHistory("ESZ6", DESCRIPTION, START, end)
    available = minutes(START - timedelta(minutes=300), 1800)
    requests = serve(plan, available, batch=500)
    assert requests == 3
    assert plan.bars() == minutes(START, 1200)


def test_the_plan_ends_when_the_server_has_nothing_older() -> None:
    end = START + timedelta(minutes=99)
    plan = ChartHistory("ESZ6", DESCRIPTION, START - timedelta(days=30), end)
    requests = serve(plan, minutes(START, 100), batch=40)
    assert plan.bars() == minutes(START, 100)
    assert requests == 4  # 40 + 40 + 20, then a batch that brings nothing older


def test_an_empty_batch_ends_it_and_bars_outside_the_range_are_left_out() -> None:
    plan = ChartHistory("ESZ6", DESCRIPTION, START, START + timedelta(minutes=10))
    plan.take([bar(START + timedelta(minutes=20)), bar(START + timedelta(minutes=5))])
    assert not plan.done
    assert plan.bars() == [bar(START + timedelta(minutes=5))]
    plan.take([])
    assert plan.done
    assert plan.next_request() is None


def test_the_first_request_asks_for_the_whole_range_in_wire_form() -> None:
    plan = ChartHistory(3570918, DESCRIPTION, START, START + timedelta(hours=1))
    assert plan.next_request() == {
        "symbol": 3570918,
        "chartDescription": DESCRIPTION,
        "timeRange": {
            "closestTimestamp": "2026-12-01T10:00:00.000Z",
            "asFarAsTimestamp": "2026-12-01T09:00:00.000Z",
        },
    }


def test_times_in_another_zone_are_sent_in_utc() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert wire_time(datetime(2026, 12, 1, 4, 0, 0, 250_000, tzinfo=eastern)) == (
        "2026-12-01T09:00:00.250Z"
    )


def test_a_range_that_ends_before_it_starts_or_a_naive_time_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="start comes after the end"):
        ChartHistory("ESZ6", DESCRIPTION, START, START - timedelta(minutes=1))
    with pytest.raises(LocalProtocolError, match="time zone"):
        ChartHistory("ESZ6", DESCRIPTION, START.replace(tzinfo=None), START)
