"""Whatever a server sends, the exchange ends in at most one event and never raises."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.ctrader import oauth
from brokerwire.core.http.connection import HttpClientConnection
from brokerwire.core.http.events import Failed, Response
from brokerwire.core.tokens import TokenFailure
from brokerwire.core.tradovate import auth
from tests.core.http.servers import sent

heads = st.sampled_from(
    [
        b"",
        b"HTTP/1.1 200 OK\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 99999999999999999999\r\n\r\n",
        b"HTTP/1.0 200 OK\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
    ]
)


@settings(max_examples=300, deadline=None)
@given(head=heads, tail=st.binary(max_size=300), cuts=st.lists(st.integers(1, 400), max_size=8))
def test_any_bytes_end_in_exactly_one_event_at_eof(
    head: bytes, tail: bytes, cuts: list[int]
) -> None:
    client = sent(HttpClientConnection(max_body_size=64, max_head_size=128))
    wire = head + tail
    points = sorted({c for c in cuts if c < len(wire)})
    events = []
    for a, b in zip([0, *points], [*points, len(wire)], strict=True):
        if wire[a:b]:
            events.extend(client.receive_data(wire[a:b], 1.0))
    events.extend(client.receive_data(b"", 2.0))
    assert len(events) == 1, events
    assert isinstance(events[0], Response | Failed)
    assert client.closed
    assert client.next_deadline() is None


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True)
    | st.text(max_size=10)
    | st.sampled_from(["2026-12-06T21:30:00Z", "p-ticket", "p-captcha", "accessToken"]),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "accessToken",
                    "mdAccessToken",
                    "refreshToken",
                    "expirationTime",
                    "expiresIn",
                    "errorText",
                    "errorCode",
                    "description",
                    "p-ticket",
                    "p-time",
                    "p-captcha",
                    "userId",
                    "hasLive",
                    "tokenType",
                ]
            ),
            inner,
            max_size=6,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(value=json_values, status=st.sampled_from([200, 201, 302, 401, 429, 500]))
def test_any_json_answer_is_a_result_never_an_exception(value: object, status: int) -> None:
    response = Response(status, "", (), b"{}", value)
    tradovate = auth.parse_token_answer(
        response, now=0.0, wall_time=datetime(2026, 12, 6, 20, tzinfo=UTC)
    )
    assert isinstance(tradovate, auth.AccessToken | auth.Penalty | TokenFailure)
    ctrader = oauth.parse_token_answer(response, now=0.0)
    assert isinstance(ctrader, oauth.OAuthToken | TokenFailure)
    if not 200 <= status < 300:
        assert not isinstance(tradovate, auth.AccessToken)
        assert not isinstance(ctrader, oauth.OAuthToken)
