"""Keepalive pings, pong deadlines and the close timeout, on an injected clock."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.transport import Closed, TransportState
from brokerwire.core.websocket import Ping, Pong
from brokerwire.core.websocket.frames import OP_CLOSE, OP_PONG, OP_TEXT, parse_close_payload
from tests.helpers import connected_pair, open_client, pump, server_frame


def test_no_timers_without_keepalive() -> None:
    client, server = connected_pair()
    assert client.next_deadline() is None
    assert server.next_deadline() is None
    assert client.handle_timer(1e9) == []
    assert client.data_to_send() == b""


def test_keepalive_of_an_already_open_connection_starts_at_the_first_data() -> None:
    client = open_client(ping_interval=20.0, ping_timeout=5.0)
    assert client.next_deadline() is None, "no time known yet"
    client.receive_data(server_frame(OP_TEXT, b"opened"), 100.0)
    assert client.next_deadline() == 120.0
    client.receive_data(server_frame(OP_TEXT, b"more"), 110.0)
    assert client.next_deadline() == 120.0, "the clock starts once, not at every read"


def test_keepalive_cycle_on_a_handshaken_connection() -> None:
    client, server = connected_pair({"ping_interval": 20.0, "ping_timeout": 5.0})
    assert client.next_deadline() == 20.0
    assert client.handle_timer(19.999) == []
    assert client.data_to_send() == b""
    assert client.handle_timer(20.0) == []
    events = pump(client, server, 20.0)
    assert len(events) == 1
    assert isinstance(events[0], Ping)
    assert client.next_deadline() == 25.0, "now waiting for the pong"
    assert pump(server, client, 20.5) == [Pong(events[0].payload)]
    assert client.next_deadline() == 40.0, "pong received: next ping 20 s after the last"


def test_missing_pong_closes_with_1011() -> None:
    client, _ = connected_pair({"ping_interval": 20.0, "ping_timeout": 5.0})
    client.handle_timer(20.0)
    client.data_to_send()
    assert client.handle_timer(24.9) == []
    events = client.handle_timer(25.0)
    assert events == [Closed(1011, "keepalive ping timed out: no pong within 5 s")]
    assert client.state is TransportState.CLOSED
    assert client.next_deadline() is None
    sent = client.data_to_send()
    assert sent[0] == 0x80 | OP_CLOSE


def test_unrelated_pong_does_not_satisfy_the_keepalive() -> None:
    client, _ = connected_pair({"ping_interval": 20.0, "ping_timeout": 5.0})
    client.handle_timer(20.0)
    assert client.receive_data(server_frame(OP_PONG, b"other"), 21.0) == [Pong(b"other")]
    assert client.next_deadline() == 25.0


def test_close_timeout() -> None:
    client, _ = connected_pair(client_kwargs={"close_timeout": 3.0})
    client.close(now=50.0)
    assert client.next_deadline() == 53.0
    assert client.handle_timer(52.0) == []
    assert client.handle_timer(53.0) == [
        Closed(1006, "the peer did not answer the close frame within 3 s")
    ]
    assert client.state is TransportState.CLOSED


def test_close_timeout_counts_from_the_last_known_time() -> None:
    client, _ = connected_pair(client_kwargs={"close_timeout": 3.0})
    client.receive_data(server_frame(OP_TEXT, b"x"), 10.0)
    client.close()
    assert client.next_deadline() == 13.0


def test_answered_close_cancels_the_timeout() -> None:
    client, server = connected_pair(client_kwargs={"close_timeout": 3.0, "ping_interval": 1.0})
    client.close(now=5.0)
    pump(client, server, 5.0)
    assert pump(server, client, 5.5) == [Closed(1000, "")]
    assert client.next_deadline() is None
    code, _ = parse_close_payload(b"\x03\xe8")
    assert code == 1000


@settings(max_examples=200, deadline=None)
@given(
    interval=st.floats(0.5, 30.0),
    timeout=st.floats(0.1, 30.0),
    steps=st.lists(st.tuples(st.floats(0.0, 40.0), st.booleans()), max_size=30),
)
def test_a_timer_never_stays_due_after_it_ran(
    interval: float, timeout: float, steps: list[tuple[float, bool]]
) -> None:
    """An adapter that sleeps until next_deadline() must never spin: after handle_timer(now),
    the next deadline is later than now (or there is none)."""
    client, server = connected_pair({"ping_interval": interval, "ping_timeout": timeout})
    now = 0.0
    for advance, answer in steps:
        now += advance
        deadline = client.next_deadline()
        if deadline is not None and deadline <= now:
            client.handle_timer(now)
            after = client.next_deadline()
            assert after is None or after > now
        if answer and client.state is TransportState.OPEN:
            pump(client, server, now)
            pump(server, client, now)
