"""The HTTP/1.1 client connection: answers fed whole, byte by byte and split anywhere."""

from __future__ import annotations

import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.http.connection import HttpClientConnection, HttpState
from brokerwire.core.http.events import Failed, Response, TimedOut
from brokerwire.core.http.request import HttpRequest, make_request
from tests.core.http.servers import DATE, answer, request, sent, server_for
from tests.helpers import byte_by_byte, random_chunks

BODY = b'{"accessToken":"abc","expirationTime":"2026-12-06T21:30:00Z","userId":7}'


def feed_all(client: HttpClientConnection, pieces: list[bytes], *, eof: bool = False) -> list:
    events = []
    for piece in pieces:
        if piece:
            events.extend(client.receive_data(piece, 1.0))
    if eof:
        events.extend(client.receive_data(b"", 1.0))
    return events


def only_response(events: list) -> Response:
    assert len(events) == 1, events
    assert isinstance(events[0], Response), events
    return events[0]


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
@pytest.mark.parametrize("cut", ["whole", "byte-by-byte", "random"])
def test_an_answer_arrives_the_same_however_it_is_cut(framing: str, cut: str) -> None:
    client = sent(HttpClientConnection())
    wire = answer(server_for(client), BODY, framing=framing, chunks=[BODY[:10], BODY[10:]])
    pieces = {
        "whole": [wire],
        "byte-by-byte": byte_by_byte(wire),
        "random": random_chunks(wire, random.Random(framing)),
    }[cut]
    response = only_response(feed_all(client, pieces, eof=framing == "close"))
    assert response.status_code == 200
    assert response.body == BODY
    assert response.data == {
        "accessToken": "abc",
        "expirationTime": "2026-12-06T21:30:00Z",
        "userId": 7,
    }
    assert response.error == ""
    assert client.state is HttpState.DONE
    assert client.closed
    assert not client.opened


@settings(max_examples=60, deadline=None)
@given(
    body=st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=20), max_size=6),
    framing=st.sampled_from(["length", "chunked", "close"]),
    cuts=st.lists(st.integers(min_value=1, max_value=400), max_size=12),
)
def test_any_split_gives_the_same_response(body: dict, framing: str, cuts: list[int]) -> None:
    encoded = msgspec.json.encode(body)
    client = sent(HttpClientConnection())
    wire = answer(server_for(client), encoded, framing=framing)
    points = sorted({c for c in cuts if c < len(wire)})
    pieces = [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True)]
    response = only_response(feed_all(client, pieces, eof=framing == "close"))
    assert response.data == body
    assert response.body == encoded


def test_nothing_arrives_until_the_answer_is_complete_and_bytes_after_it_are_ignored() -> None:
    client = sent(HttpClientConnection())
    wire = answer(server_for(client), BODY)
    assert client.receive_data(wire[:-1], 1.0) == []
    assert client.state is HttpState.WAITING
    assert not client.closed
    assert len(client.receive_data(wire[-1:], 1.0)) == 1
    assert client.receive_data(b"HTTP/1.1 200 OK\r\n\r\n", 2.0) == []
    assert client.receive_data(b"", 2.0) == []


def test_the_request_goes_out_as_http_1_1_and_asks_to_close() -> None:
    client = sent(HttpClientConnection())
    wire = client.data_to_send()
    assert wire.startswith(b"POST /v1/auth/thing HTTP/1.1\r\n")
    assert b"\r\nHost: example.test\r\n" in wire
    assert b"\r\nConnection: close\r\n" in wire
    assert b"\r\nContent-Length: 7\r\n" in wire
    assert wire.endswith(b'\r\n\r\n{"a":1}')
    assert client.data_to_send() == b""


def test_an_informational_answer_is_skipped() -> None:
    client = sent(HttpClientConnection())
    wire = b"HTTP/1.1 100 Continue\r\n\r\n" + answer(server_for(client), BODY)
    assert only_response(client.receive_data(wire, 1.0)).data["userId"] == 7


def test_an_empty_body_is_no_data_and_no_error() -> None:
    client = sent(HttpClientConnection())
    response = only_response(client.receive_data(answer(server_for(client), b"", status=204), 1))
    assert (response.status_code, response.data, response.error) == (204, None, "")


def test_a_body_that_is_not_json_keeps_its_bytes_and_says_why() -> None:
    client = sent(HttpClientConnection())
    page = b"<html>bad gateway</html>"
    response = only_response(client.receive_data(answer(server_for(client), page, status=502), 1))
    assert response.status_code == 502
    assert not response.ok
    assert response.body == page
    assert response.data is None
    assert response.error.startswith("the body is not valid JSON")


class Token(msgspec.Struct):
    accessToken: str
    userId: int


def test_a_typed_decoder_gives_the_model() -> None:
    client = HttpClientConnection()
    client.send_request(request(), 0.0, decoder=msgspec.json.Decoder(Token))
    response = only_response(client.receive_data(answer(server_for(client), BODY), 1.0))
    assert response.data == Token("abc", 7)


def test_a_body_that_does_not_fit_the_model_arrives_raw_with_the_reason() -> None:
    client = HttpClientConnection()
    client.send_request(request(), 0.0, decoder=msgspec.json.Decoder(Token))
    wire = answer(server_for(client), b'{"accessToken":"abc","userId":"seven"}')
    response = only_response(client.receive_data(wire, 1.0))
    assert response.data == {"accessToken": "abc", "userId": "seven"}
    assert "does not fit the model" in response.error
    assert "userId" in response.error


def test_the_date_header_is_read_as_utc() -> None:
    client = sent(HttpClientConnection())
    response = only_response(client.receive_data(answer(server_for(client), BODY), 1.0))
    assert response.header(b"date") == DATE.encode()
    assert response.date is not None
    assert response.date.isoformat() == "2026-12-06T20:00:00+00:00"


# -- answers that end the exchange with a failure ---------------------------------------------


def only_failure(events: list) -> str:
    assert len(events) == 1, events
    assert isinstance(events[0], Failed), events
    return events[0].error.message


@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("keep", [0, 20, -3])
def test_a_truncated_answer_fails_at_eof(framing: str, keep: int) -> None:
    client = sent(HttpClientConnection())
    wire = answer(server_for(client), BODY, framing=framing)
    assert feed_all(client, byte_by_byte(wire[:keep])) == []
    message = only_failure(client.receive_data(b"", 1.0))
    assert "closed the connection" in message
    assert client.state is HttpState.FAILED
    assert client.closed
    assert client.next_deadline() is None


def test_eof_in_the_body_says_how_much_had_arrived() -> None:
    client = sent(HttpClientConnection())
    wire = answer(server_for(client), BODY)
    head_end = wire.index(b"\r\n\r\n") + 4
    client.receive_data(wire[: head_end + 5], 1.0)
    assert "5 bytes of it had arrived" in only_failure(client.receive_data(b"", 1.0))


@pytest.mark.parametrize(
    "garbage",
    [
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nbad header line\r\n\r\n",
    ],
)
def test_a_malformed_answer_is_a_clear_failure(garbage: str) -> None:
    client = sent(HttpClientConnection())
    message = only_failure(feed_all(client, [garbage]))
    assert message.startswith("invalid HTTP response")
    assert client.state is HttpState.FAILED


@pytest.mark.parametrize("cut", ["whole", "byte-by-byte"])
def test_an_oversized_head_fails(cut: str) -> None:
    client = sent(HttpClientConnection(max_head_size=1024))
    wire = b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"a" * 2000 + b"\r\n\r\n{}"
    pieces = [wire] if cut == "whole" else byte_by_byte(wire)
    events = feed_all(client, pieces)
    assert only_failure(events) == "the response head is over 1024 bytes"


def test_a_head_within_the_limit_is_accepted() -> None:
    client = sent(HttpClientConnection(max_head_size=1024))
    wire = answer(server_for(client), BODY, headers=[("X-Filler", "a" * 600)])
    assert only_response(client.receive_data(wire, 1.0)).data["userId"] == 7


def test_an_oversized_body_announced_by_content_length_fails_at_the_head() -> None:
    client = sent(HttpClientConnection(max_body_size=100))
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n"
    assert only_failure(client.receive_data(head, 1.0)) == (
        "the response body is over 100 bytes (Content-Length: 101)"
    )


@pytest.mark.parametrize("framing", ["chunked", "close"])
def test_an_oversized_body_without_a_length_fails_as_it_grows(framing: str) -> None:
    client = sent(HttpClientConnection(max_body_size=100))
    body = b"[" + b"1," * 60 + b"1]"
    wire = answer(server_for(client), body, framing=framing, chunks=[body[:50], body[50:]])
    events = feed_all(client, byte_by_byte(wire))
    assert only_failure(events) == "the response body is over 100 bytes"


def test_a_body_exactly_at_the_limit_is_accepted() -> None:
    body = b"[" + b"1," * 48 + b"1]"
    client = sent(HttpClientConnection(max_body_size=len(body)))
    wire = answer(server_for(client), body, framing="chunked")
    assert len(only_response(client.receive_data(wire, 1.0)).data) == 49


def test_the_default_body_limit_is_16_mib() -> None:
    assert HttpClientConnection().max_body_size == 16 * 1024 * 1024


def test_data_before_a_request_is_a_failure() -> None:
    client = HttpClientConnection()
    assert "before a request" in only_failure(client.receive_data(b"HTTP/1.1 200 OK\r\n", 0))


# -- the deadline -----------------------------------------------------------------------------


def test_a_server_that_never_answers_times_out_through_the_timer() -> None:
    client = sent(HttpClientConnection(timeout=10.0), now=100.0)
    assert client.next_deadline() == 110.0
    assert client.handle_timer(109.9) == []
    assert client.receive_data(b"HTTP/1.1 200 OK\r\n", 105.0) == []
    assert client.next_deadline() == 110.0
    assert client.handle_timer(110.0) == [TimedOut(10.0)]
    assert client.state is HttpState.FAILED
    assert client.closed
    assert client.next_deadline() is None
    assert client.handle_timer(200.0) == []
    assert client.receive_data(b"Content-Length: 0\r\n\r\n", 201.0) == []


def test_no_deadline_before_the_request_or_after_the_answer() -> None:
    client = HttpClientConnection(timeout=5.0)
    assert client.next_deadline() is None
    assert client.opened
    sent(client, now=1.0)
    client.receive_data(answer(server_for(client), BODY), 2.0)
    assert client.next_deadline() is None
    assert client.handle_timer(1000.0) == []


# -- misuse -----------------------------------------------------------------------------------


def test_a_second_request_is_refused() -> None:
    client = sent(HttpClientConnection())
    with pytest.raises(LocalProtocolError, match="one exchange per connection"):
        client.send_request(request(), 1.0)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf")])
def test_a_timeout_no_timer_can_use_is_refused(timeout: float) -> None:
    with pytest.raises(LocalProtocolError):
        HttpClientConnection(timeout=timeout)


@pytest.mark.parametrize(
    "url",
    [
        "example.test/x",
        "ftp://example.test/",
        "https:///x",
        "https://u:p@example.test/",
        "https://example.test:0/",
    ],
)
def test_a_url_that_cannot_be_requested_is_refused(url: str) -> None:
    with pytest.raises(LocalProtocolError):
        make_request("GET", url)


def test_a_header_with_a_line_break_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="CR, LF or NUL"):
        make_request("GET", "https://example.test/", headers=[("X-A", "b\r\nX-Evil: 1")])


@pytest.mark.parametrize(
    "bad",
    [
        HttpRequest("GET", "gopher://example.test/"),
        HttpRequest("GET", "/relative"),
        HttpRequest("GE T", "https://example.test/"),
        HttpRequest("GET", "https://example.test/", ((b"X-A", b"b\r\nc"),)),
    ],
)
def test_a_request_built_by_hand_that_cannot_be_sent_is_refused(bad: HttpRequest) -> None:
    client = HttpClientConnection()
    with pytest.raises(LocalProtocolError):
        client.send_request(bad, 0.0)
    assert client.state is HttpState.IDLE
    assert client.data_to_send() == b""


def test_a_refused_request_leaves_the_connection_ready_for_a_good_one() -> None:
    client = HttpClientConnection()
    with pytest.raises(LocalProtocolError):
        client.send_request(HttpRequest("GET", "https://example.test/", ((b"X", b"\n"),)), 0.0)
    sent(client)
    assert only_response(client.receive_data(answer(server_for(client), BODY), 1.0)).ok


def test_a_refused_header_value_is_not_quoted_in_the_error() -> None:
    bad = HttpRequest("GET", "https://example.test/", ((b"Authorization", b"Bearer tok\x0ben"),))
    with pytest.raises(LocalProtocolError) as caught:
        HttpClientConnection().send_request(bad, 0.0)
    assert "tok" not in str(caught.value)
    assert "header value" in str(caught.value)


def test_a_header_given_as_non_ascii_text_is_refused() -> None:
    bad = HttpRequest("GET", "https://example.test/", (("X-Name", "caf\u00e9"),))  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="ASCII"):
        HttpClientConnection().send_request(bad, 0.0)
