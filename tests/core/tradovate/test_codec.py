"""The Tradovate codec: frames, request documents, encoders, on the documented examples."""

from __future__ import annotations

import re

import pytest

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.jsonlib import loads
from brokerwire.core.tradovate import (
    FrameError,
    RequestDocument,
    decode_frame,
    decode_request,
    encode_close,
    encode_messages,
    encode_request,
    event_message,
    response_message,
    unwrap_error_text,
)
from tests.core.tradovate import fixtures as fx


def test_open_and_heartbeat_frames() -> None:
    assert decode_frame("o") == ("o", None)
    assert decode_frame("h") == ("h", None)


def test_array_frame_with_one_response() -> None:
    assert decode_frame(fx.CONTRACT_RESPONSE) == (
        "a",
        [{"s": 200, "i": 23, "d": {"id": 65543, "name": "CLZ6", "contractMaturityId": 6727}}],
    )


def test_close_frame() -> None:
    assert decode_frame(fx.CLOSE_FRAME) == ("c", (3000, "Go away!"))
    assert decode_frame("c") == ("c", (None, ""))


@pytest.mark.parametrize(
    ("text", "words", "code"),
    [
        ("", "empty message", 1002),
        ("x[]", "unknown frame", 1002),
        ("oo", "unknown frame", 1002),
        ("hello", "unknown frame", 1002),
        ("a[{", "invalid JSON", 1007),
        ("a", "invalid JSON", 1007),
        ("c3000", "must be c[code", 1002),
        ("c[3000]", "must be c[code", 1002),
        ('c["3000","x"]', "must be c[code", 1002),
        ('c[3000,"x",1]', "must be c[code", 1002),
    ],
)
def test_bad_frames(text: str, words: str, code: int) -> None:
    with pytest.raises(FrameError, match=re.escape(words)) as info:
        decode_frame(text)
    assert info.value.close_code == code


@pytest.mark.parametrize(("text", "value"), [("a{}", {}), ('a"text"', "text"), ("a 7 ", 7)])
def test_an_a_frame_gives_whatever_json_it_holds(text: str, value: object) -> None:
    """Valid JSON that is not an array is the connection's to judge (it passes it through
    raw); the codec reads it as it is."""
    assert decode_frame(text) == ("a", value)


def test_deeply_nested_json_is_a_frame_error_not_a_crash() -> None:
    with pytest.raises(FrameError, match="invalid JSON"):
        decode_frame("a" + "[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("executionReport/list", 4), fx.REQUEST_NO_QUERY_NO_BODY),
        (("tradingPermission/ldeps", 8, {"masterids": 1}), fx.REQUEST_WITH_QUERY + "\n"),
        (("tradingPermission/ldeps", 8, "masterids=1"), fx.REQUEST_WITH_QUERY + "\n"),
        (
            (
                "contract/rollcontract",
                33,
                None,
                {"name": "YMZ6", "forward": True, "ifExpired": True},
            ),
            fx.REQUEST_WITH_BODY,
        ),
        (
            (
                "authorize",
                2,
                None,
                "uST01MhJMF3cR3lCs-gdQ9W0AzomYLaqsWcZ_GYgAspPRf-ZS-Wb7q3sW3pUafTm90ba4",
            ),
            fx.AUTHORIZE_REQUEST,
        ),
        (
            (
                "md/getchart",
                0,
                None,
                {
                    "symbol": "ESZ4",
                    "chartDescription": {
                        "underlyingType": "MinuteBar",
                        "elementSize": 1,
                        "elementSizeUnit": "UnderlyingUnits",
                        "withHistogram": False,
                    },
                    "timeRange": {"asMuchAsElements": 100},
                },
            ),
            fx.GET_CHART_REQUEST,
        ),
        (("/contract/find", 1, {"name": "ESZ6"}), "contract/find\n1\nname=ESZ6\n"),
        (
            ("contract/ldeps", 1, {"masterids": [1, 2], "live": True, "x": None}),
            "contract/ldeps\n1\nmasterids=1&masterids=2&live=true\n",
        ),
        (("x/y", 1, {"q": "a b&c=d"}), "x/y\n1\nq=a+b%26c%3Dd\n"),
        (("user/syncrequest", 9, None, [1, 2]), "user/syncrequest\n9\n\n[1,2]"),
    ],
)
def test_encode_request_matches_the_documents(args: tuple[object, ...], expected: str) -> None:
    assert encode_request(*args) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("endpoint", ["", "/", "md/subscribeQuote\n3", "a b", "x?y=1"])
def test_an_endpoint_that_cannot_be_sent_is_the_callers_mistake(endpoint: str) -> None:
    with pytest.raises(LocalProtocolError, match="invalid endpoint"):
        encode_request(endpoint, 1)


def test_a_query_with_a_newline_is_the_callers_mistake() -> None:
    with pytest.raises(LocalProtocolError, match="newline"):
        encode_request("contract/find", 1, "name=ES\nZ6")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (fx.REQUEST_NO_QUERY_NO_BODY, RequestDocument("executionReport/list", 4, "", "")),
        (fx.REQUEST_WITH_QUERY, RequestDocument("tradingPermission/ldeps", 8, "masterids=1", "")),
        (
            fx.REQUEST_WITH_BODY,
            RequestDocument(
                "contract/rollcontract", 33, "", '{"name":"YMZ6","forward":true,"ifExpired":true}'
            ),
        ),
        ("x/y\n1\n\nline one\nline two", RequestDocument("x/y", 1, "", "line one\nline two")),
        ("x/y\n1", RequestDocument("x/y", 1, "", "")),
    ],
)
def test_decode_request(text: str, expected: RequestDocument) -> None:
    assert decode_request(text) == expected


def test_request_round_trip_and_json_body() -> None:
    body = {"symbol": "ESZ6", "n": [1, 2]}
    doc = decode_request(encode_request("md/subscribeQuote", 7, {"a": 1}, body))
    assert doc == RequestDocument("md/subscribeQuote", 7, "a=1", '{"symbol":"ESZ6","n":[1,2]}')
    assert doc.json_body() == body
    assert RequestDocument("x", 1, "", "").json_body() is None


@pytest.mark.parametrize("text", ["", "\n1", "endpoint", "endpoint\nseven\n\n", "endpoint\n1.5"])
def test_bad_request_documents(text: str) -> None:
    with pytest.raises(FrameError):
        decode_request(text)


def test_authorize_token_is_redacted_in_the_request_repr() -> None:
    doc = decode_request(fx.AUTHORIZE_REQUEST)
    assert doc.body.startswith("uST01")
    assert "uST01" not in repr(doc)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        ("Invalid access token", "Invalid access token"),
        ('"Access is denied"', "Access is denied"),
        ('"Not found: quote/subscribe"', "Not found: quote/subscribe"),
        ('"half', '"half'),
        ('"a" and "b"', '"a" and "b"'),
        ('"\\"twice\\""', '"twice"'),  # unwrapped once only
        (None, ""),
        ({"errorText": "x"}, '{"errorText":"x"}'),
    ],
)
def test_unwrap_error_text(data: object, text: str) -> None:
    assert unwrap_error_text(data) == text


def test_server_encoders() -> None:
    assert encode_close(3000, "Go away!") == 'c[3000,"Go away!"]'
    assert response_message(2, 200) == {"s": 200, "i": 2}
    assert response_message(3, 404, "Not found") == {"s": 404, "i": 3, "d": "Not found"}
    assert event_message("md", {"quotes": []}) == {"e": "md", "d": {"quotes": []}}
    frame = encode_messages([response_message(1, 200, {"id": 1}), event_message("props", {"x": 1})])
    assert frame.startswith("a[")
    assert decode_frame(frame) == ("a", loads(frame[1:]))
