"""The renewal schedule: its arithmetic, all driven by ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokerwire.core.errors import LocalProtocolError, RemoteProtocolError
from brokerwire.core.http.events import Failed, TimedOut
from brokerwire.core.tokens import (
    RenewalSchedule,
    TokenFailure,
    TokenStatus,
    expiry_on_monotonic_clock,
    failure_of_exchange,
)

MINUTE = 60.0


def test_a_90_minute_token_is_renewed_15_minutes_before_expiry() -> None:
    schedule = RenewalSchedule()
    schedule.token_received(1000.0, 1000.0 + 90 * MINUTE)
    assert schedule.renew_at == 1000.0 + 75 * MINUTE
    assert schedule.next_deadline() == 1000.0 + 75 * MINUTE
    assert schedule.status(1000.0 + 75 * MINUTE - 0.001) is TokenStatus.VALID
    assert schedule.status(1000.0 + 75 * MINUTE) is TokenStatus.DUE


def test_a_30_day_token_is_renewed_15_minutes_before_expiry() -> None:
    schedule = RenewalSchedule()
    schedule.token_received(0.0, 2_628_000.0)
    assert schedule.renew_at == 2_628_000.0 - 15 * MINUTE


@pytest.mark.parametrize(
    ("lifetime", "renew_after"),
    [
        (2.0, 1.5),
        (10 * MINUTE, 7.5 * MINUTE),
        (60 * MINUTE, 45 * MINUTE),
        (15 * MINUTE, 11.25 * MINUTE),
    ],
)
def test_a_short_token_is_renewed_at_three_quarters_of_its_life(
    lifetime: float, renew_after: float
) -> None:
    schedule = RenewalSchedule()
    schedule.token_received(50.0, 50.0 + lifetime)
    assert schedule.renew_at == pytest.approx(50.0 + renew_after)


def test_a_short_token_renewed_each_time_is_not_renewed_in_a_loop() -> None:
    """Each 2-second token is renewed once, 1.5 s into its life: one renewal per lifetime."""
    schedule = RenewalSchedule()
    now, renewals = 0.0, 0
    schedule.token_received(now, now + 2.0)
    while now < 60.0:
        now += 0.1
        if schedule.status(now) is TokenStatus.DUE:
            schedule.attempt_started(now)
            renewals += 1
            schedule.token_received(now, now + 2.0)
    assert 38 <= renewals <= 41


@given(
    received=st.floats(-1e9, 1e9),
    lifetime=st.floats(0.0, 1e8),
    lead=st.floats(0.0, 1e5),
)
def test_renewal_is_never_after_expiry_nor_before_three_quarters(
    received: float, lifetime: float, lead: float
) -> None:
    schedule = RenewalSchedule(lead=lead)
    schedule.token_received(received, received + lifetime)
    assert schedule.renew_at is not None
    assert received + 0.75 * lifetime - 1e-6 <= schedule.renew_at
    assert schedule.renew_at <= received + lifetime + 1e-6


def due_schedule(lifetime: float = 90 * MINUTE, **options: float) -> RenewalSchedule:
    schedule = RenewalSchedule(**options)
    schedule.token_received(0.0, lifetime)
    assert schedule.renew_at is not None
    schedule.attempt_started(schedule.renew_at)
    return schedule


def test_an_attempt_under_way_is_not_due_again_and_only_expiry_is_ahead() -> None:
    schedule = due_schedule()
    assert schedule.status(75 * MINUTE + 1) is TokenStatus.RENEWING
    assert schedule.next_deadline() == 90 * MINUTE
    with pytest.raises(LocalProtocolError, match="no renewal is due"):
        schedule.attempt_started(75 * MINUTE + 1)


def test_failures_back_off_doubling_up_to_the_cap() -> None:
    schedule = due_schedule(retry_initial=5.0, retry_max=40.0)
    now = 75 * MINUTE
    delays = []
    for _ in range(6):
        schedule.attempt_failed(now)
        assert schedule.renew_at is not None
        delays.append(schedule.renew_at - now)
        now = schedule.renew_at
        assert schedule.status(now) is TokenStatus.DUE
        schedule.attempt_started(now)
    assert delays == [5.0, 10.0, 20.0, 40.0, 40.0, 40.0]
    assert schedule.failures == 6


def test_a_retry_is_never_later_than_halfway_to_expiry() -> None:
    schedule = due_schedule(retry_initial=5.0, retry_max=600.0)
    schedule.attempt_failed(90 * MINUTE - 100.0)  # backoff 5 s
    schedule.attempt_started(schedule.renew_at or 0.0)
    for _ in range(5):  # backoff 10, 20, 40, 80, 160 s
        now = 90 * MINUTE - 60.0
        schedule.attempt_failed(now)
        schedule.attempt_started(schedule.renew_at or 0.0)
    schedule.attempt_failed(90 * MINUTE - 60.0)
    assert schedule.renew_at == 90 * MINUTE - 30.0


def test_no_retry_is_scheduled_at_or_after_expiry_and_then_the_token_expires() -> None:
    schedule = due_schedule(retry_initial=5.0)
    schedule.attempt_failed(90 * MINUTE - 4.0)
    assert schedule.renew_at is None
    assert schedule.status(90 * MINUTE - 1.0) is TokenStatus.VALID
    assert schedule.next_deadline() == 90 * MINUTE
    assert schedule.status(90 * MINUTE) is TokenStatus.EXPIRED
    with pytest.raises(LocalProtocolError, match="expired"):
        schedule.attempt_started(90 * MINUTE)


def test_nothing_is_due_after_expiry_even_when_a_renewal_was_missed() -> None:
    schedule = RenewalSchedule()
    schedule.token_received(0.0, 90 * MINUTE)
    assert schedule.status(90 * MINUTE + 1) is TokenStatus.EXPIRED


def test_a_new_token_clears_the_failures() -> None:
    schedule = due_schedule()
    schedule.attempt_failed(75 * MINUTE)
    schedule.token_received(76 * MINUTE, 166 * MINUTE)
    assert schedule.failures == 0
    assert schedule.renew_at == 151 * MINUTE
    assert schedule.status(77 * MINUTE) is TokenStatus.VALID


def test_before_a_token_there_is_nothing_to_schedule() -> None:
    schedule = RenewalSchedule()
    assert schedule.status(0.0) is TokenStatus.NONE
    assert schedule.next_deadline() is None
    with pytest.raises(LocalProtocolError):
        schedule.attempt_failed(0.0)


@pytest.mark.parametrize(
    "options",
    [
        {"lead": -1.0},
        {"fraction": 1.0},
        {"fraction": 0.0},
        {"retry_initial": 0.0},
        {"retry_max": float("nan")},
    ],
)
def test_options_no_schedule_can_use_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(LocalProtocolError):
        RenewalSchedule(**options)


def test_a_wall_clock_expiry_is_placed_on_the_monotonic_clock() -> None:
    wall = datetime(2026, 12, 6, 20, 0, 0, tzinfo=UTC)
    assert expiry_on_monotonic_clock(wall + timedelta(minutes=90), wall, 12.5) == 12.5 + 5400.0
    with pytest.raises(LocalProtocolError, match="timezone-aware"):
        expiry_on_monotonic_clock(datetime(2026, 12, 6, 21), wall, 0.0)


def test_an_exchange_without_an_answer_is_a_passing_failure() -> None:
    assert failure_of_exchange(TimedOut(30.0)) == TokenFailure("no answer within 30 s")
    failed = failure_of_exchange(Failed(RemoteProtocolError("the server closed it")))
    assert failed == TokenFailure("the server closed it")
    assert not failed.final
