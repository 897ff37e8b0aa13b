"""One exception for bad bytes from the peer: ``RemoteProtocolError``, raised where the fault is
found and delivered unchanged in the terminal ``Closed``; the rule for text is the transport's."""

from __future__ import annotations

import pytest

from brokerwire.core import RemoteProtocolError
from brokerwire.core.ctrader import CTraderConnection, CTraderServerConnection, EnvelopeError
from brokerwire.core.tcp import Framing
from brokerwire.core.tradovate import FrameError, TradovateConnection, decode_frame
from brokerwire.core.websocket import BadUpgradeRequest, InvalidClosePayload
from brokerwire.core.websocket.frames import OP_CLOSE, OP_CONTINUATION, OP_TEXT
from tests.core.ctrader.helpers import wire
from tests.helpers import client_frame, only_closed, raw_frame, server_frame

NOT_UTF8 = b'{"payloadType":2131,"payload":{"s":"caf\xc3"}}'
NOT_UTF8_WORDS = "text message is not valid UTF-8 (invalid continuation byte)"


def tradovate() -> TradovateConnection:
    conn = TradovateConnection(already_open=True)
    conn.receive_data(server_frame(OP_TEXT, b"o"), 0.0)
    return conn


def test_every_layers_error_is_a_remote_protocol_error_and_the_old_names_still_catch() -> None:
    for cls in (FrameError, EnvelopeError, InvalidClosePayload, BadUpgradeRequest):
        assert issubclass(cls, RemoteProtocolError), cls
    with pytest.raises(RemoteProtocolError) as info:
        decode_frame("x")
    assert type(info.value) is FrameError
    assert repr(info.value).startswith('FrameError("unknown frame')
    assert FrameError("bad", 1002) == RemoteProtocolError("bad", 1002), "equal by what they say"
    assert EnvelopeError("bad").close_code == 1002


def test_a_tradovate_frame_error_reaches_closed_as_raised() -> None:
    closed = only_closed(tradovate().receive_data(server_frame(OP_TEXT, b"x"), 1.0))
    assert type(closed.error) is FrameError
    assert closed.code == closed.error.close_code == 1002
    assert closed.reason == closed.error.message


def test_a_binary_message_to_tradovate_is_a_frame_error_with_1003() -> None:
    closed = only_closed(tradovate().receive_data(server_frame(0x2, b"[]"), 1.0))
    assert type(closed.error) is FrameError
    assert closed.code == closed.error.close_code == 1003


def test_bad_utf8_to_tradovate_is_the_websockets_error_whole_or_fragmented() -> None:
    whole = only_closed(tradovate().receive_data(server_frame(OP_TEXT, b"a[\xc3(]"), 1.0))
    fragments = server_frame(OP_TEXT, b"a[\xc3", fin=False) + server_frame(OP_CONTINUATION, b"(]")
    in_parts = only_closed(tradovate().receive_data(fragments, 1.0))
    for closed in (whole, in_parts):
        assert type(closed.error) is RemoteProtocolError, "the transport's, not the broker's"
        assert closed.code == closed.error.close_code == 1007
    assert whole.error == in_parts.error
    assert whole.reason == "text message is not valid UTF-8 (invalid continuation byte)"
    bad_letter = only_closed(tradovate().receive_data(server_frame(OP_TEXT, b"\xffo"), 1.0))
    assert type(bad_letter.error) is RemoteProtocolError
    assert bad_letter.code == 1007


def test_a_bad_close_frame_reaches_closed_as_invalid_close_payload() -> None:
    closed = only_closed(tradovate().receive_data(server_frame(OP_CLOSE, b"\x03"), 1.0))
    assert type(closed.error) is InvalidClosePayload
    assert closed.code == 1002


def test_bad_websocket_framing_is_a_plain_remote_protocol_error() -> None:
    closed = only_closed(tradovate().receive_data(raw_frame(0x3, b""), 1.0))
    assert type(closed.error) is RemoteProtocolError
    assert closed.error == RemoteProtocolError("frame with reserved opcode 0x3", 1002)


@pytest.mark.parametrize("framing", list(Framing))
def test_ctrader_over_tcp_refuses_bad_utf8_by_the_tcp_rule_with_no_close_code(
    framing: Framing,
) -> None:
    conn = CTraderConnection.tcp(framing=framing)
    kind = "tcp-length-prefix" if framing is Framing.LENGTH_PREFIX else "tcp-json-stream"
    closed = only_closed(conn.receive_data(wire(kind, NOT_UTF8), 1.0))
    assert type(closed.error) is RemoteProtocolError
    assert closed.error == RemoteProtocolError(NOT_UTF8_WORDS, None)
    assert closed.code is None


def test_ctrader_over_websocket_refuses_bad_utf8_with_1007() -> None:
    conn = CTraderConnection.websocket(already_open=True)
    closed = only_closed(conn.receive_data(wire("websocket", NOT_UTF8), 1.0))
    assert closed.error == RemoteProtocolError(NOT_UTF8_WORDS, 1007)
    assert closed.code == 1007


def test_an_envelope_error_reaches_closed_as_raised_with_the_transports_code() -> None:
    over_ws = CTraderConnection.websocket(already_open=True)
    closed = only_closed(over_ws.receive_data(wire("websocket", b"[1"), 1.0))
    assert type(closed.error) is EnvelopeError
    assert closed.code == closed.error.close_code == 1007
    over_tcp = CTraderConnection.tcp()
    closed = only_closed(over_tcp.receive_data(wire("tcp-length-prefix", b"[1"), 1.0))
    assert type(closed.error) is EnvelopeError
    assert closed.code is closed.error.close_code is None, "TCP sends no close code"


def test_the_ctrader_server_applies_the_same_rules() -> None:
    over_tcp = CTraderServerConnection.tcp()
    closed = only_closed(over_tcp.receive_data(wire("tcp-length-prefix", NOT_UTF8), 1.0))
    assert closed.error == RemoteProtocolError(NOT_UTF8_WORDS, None)
    over_ws = CTraderServerConnection.websocket()
    over_ws.receive_data(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        0.0,
    )
    over_ws.accept(now=0.0)
    closed = only_closed(over_ws.receive_data(client_frame(OP_TEXT, NOT_UTF8), 1.0))
    assert closed.error == RemoteProtocolError(NOT_UTF8_WORDS, 1007)
    assert type(closed.error) is RemoteProtocolError
    closed = only_closed(
        CTraderServerConnection.tcp().receive_data(wire("tcp-json-stream", b"{1}"), 1.0)
    )
    assert type(closed.error) is EnvelopeError
