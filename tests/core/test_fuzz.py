"""Every decoder under hypothesis: random bytes and mutated valid input (see tests/fuzz)."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brokerwire.core.tcp import Framing, TcpConnection
from brokerwire.core.transport import Closed
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.fuzz.mutate import mutate
from tests.fuzz.targets import LIMIT, TARGETS, Setup, Target, TargetFailure, exercise
from tests.helpers import server_frame

pytestmark = pytest.mark.timeout(120)

FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)


@st.composite
def mutated_seed(draw: st.DrawFn, target: Target) -> bytes:
    corpus = target.seeds()
    rng = draw(st.randoms(use_true_random=False))
    data = rng.choice(corpus)
    for _ in range(draw(st.integers(1, 3))):
        data = mutate(rng, data, corpus)
    return data


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_pass_every_check(name: str) -> None:
    for data in TARGETS[name].seeds():
        TARGETS[name].run(data)


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(data=st.data())
def test_mutated_valid_input(name: str, data: st.DataObject) -> None:
    TARGETS[name].run(data.draw(mutated_seed(TARGETS[name])))


@pytest.mark.parametrize("name", sorted(TARGETS))
@FUZZ
@given(payload=st.binary(max_size=512))
def test_random_bytes(name: str, payload: bytes) -> None:
    TARGETS[name].run(payload)


def test_the_seeds_reach_past_the_first_layer() -> None:
    """Mutating the seeds is only worth it if the seeds themselves decode cleanly."""
    from tests.fuzz import targets

    seed = targets._tradovate_frame_texts()
    events = exercise(
        b"".join(server_frame(0x1, text) for text in seed),
        targets._tradovate_client,
        targets.TRADOVATE_EVENTS,
        targets._tradovate_outcome,
    )
    names = {type(event).__name__ for event in events}
    assert {"MarketData", "Response", "Penalty", "EntityChanged", "Shutdown"} <= names
    assert events[-1].error is None


# -- the checks themselves catch what they should ---------------------------------------------


class _Hoarder:
    """A connection that keeps every byte it is given and never decodes anything."""

    def __init__(self) -> None:
        self._transport = TcpConnection(
            receive_framing=Framing.LENGTH_PREFIX, max_message_size=LIMIT
        )

    def receive_data(self, data: bytes, now: float) -> list[Any]:
        framer = self._transport._receive_framer
        if not data:
            return [Closed(None, "eof")]
        framer._buffer += data  # type: ignore[union-attr]
        return []

    def data_to_send(self) -> bytes:
        return b""

    def handle_timer(self, now: float) -> list[Any]:
        return []


def test_a_connection_that_outgrows_its_limit_fails_the_check() -> None:
    with pytest.raises(TargetFailure, match="more than its limit"):
        exercise(b"x" * (LIMIT * 4), lambda: Setup(_Hoarder()), (Closed,))


def test_two_closed_events_fail_the_check() -> None:
    class Twice(_Hoarder):
        def receive_data(self, data: bytes, now: float) -> list[Any]:
            return [Closed(None, "one"), Closed(None, "two")] if not data else []

    with pytest.raises(TargetFailure, match="2 Closed events"):
        exercise(b"x", lambda: Setup(Twice()), (Closed,))


def test_a_request_without_an_outcome_fails_the_check() -> None:
    with pytest.raises(TargetFailure, match="got 0 outcomes"):
        exercise(
            b"",
            lambda: Setup(_Hoarder(), requests=["r-1"]),
            (Closed,),
            outcome_of=lambda event: None,
        )


def test_input_that_decodes_differently_when_cut_fails_the_check() -> None:
    class OneEventPerCall(_Hoarder):
        closed = False

        def receive_data(self, data: bytes, now: float) -> list[Any]:
            if self.closed:
                return []
            if not data:
                self.closed = True
                return [Closed(None, "eof")]
            return [("call",)]

    with pytest.raises(TargetFailure, match="disagree"):
        exercise(bytes(range(200)), lambda: Setup(OneEventPerCall()), (Closed, tuple))


def test_a_frame_decoded_differently_in_fragments_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fragmented frame that loses the events the whole frame gives is caught."""
    from tests.fuzz import targets

    def loses_the_message(self: WebSocketConnection, *args: Any) -> None:
        self._frag_opcode = 0

    batch = b'a[{"e":"shutdown","d":{"reasonCode":"Maintenance"}},42]'
    targets.tradovate_frames(batch)
    monkeypatch.setattr(WebSocketConnection, "_receive_fragment", loses_the_message)
    with pytest.raises(TargetFailure, match="whole and in fragments disagrees"):
        targets.tradovate_frames(batch)


def test_an_error_worded_differently_in_fragments_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fragment comparison reads reasons, not only close codes: an error whose words
    differ from one feeding to the next is caught, though the close codes agree."""
    from brokerwire.core.ctrader import codec
    from tests.fuzz import targets

    calls = itertools.count()

    def numbered(data: str | bytes, limit: int = 120) -> str:
        return f"preview {next(calls)}"

    long_and_bad = b'{"payloadType":2131,"payload":{"symbolId":' + b"1" * 200 + b"x}}"
    targets.ctrader_envelopes(long_and_bad)
    monkeypatch.setattr(codec, "_preview", numbered)
    with pytest.raises(TargetFailure, match="whole and in fragments disagrees"):
        targets.ctrader_envelopes(long_and_bad)


def test_a_message_over_the_limit_is_refused_before_it_is_buffered() -> None:
    conn = WebSocketConnection(Role.CLIENT, already_open=True, max_message_size=LIMIT)
    header = bytes([0x81, 127]) + (1 << 40).to_bytes(8, "big")
    events = conn.receive_data(header + b"x" * 1000, 0.0)
    assert type(events[-1]) is Closed
    assert events[-1].code == 1009
    assert len(conn._buffer) == 0


def test_mutations_change_the_input_and_are_reproducible() -> None:
    seeds = [bytes(range(64)), b"{}" * 20]
    first = [mutate(random.Random(seed), seeds[0], seeds) for seed in range(50)]
    again = [mutate(random.Random(seed), seeds[0], seeds) for seed in range(50)]
    assert first == again
    assert sum(data != seeds[0] for data in first) >= 45
