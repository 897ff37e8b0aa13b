"""Captures of what a server sends, made by the core's server roles as a live server makes them.

Each capture is the server-to-client bytes of one connection: for WebSocket, the ``HTTP/1.1 101``
answer, then the frames; for cTrader over TCP, the framed messages. ``boundaries`` are the
offsets at which one message ends and the next begins, for cutting and corrupting a capture
between messages.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from brokerwire.core.ctrader import CTraderConnection, CTraderServerConnection, PayloadType
from brokerwire.core.tcp import Framing
from brokerwire.core.tradovate import TradovateConnection, TradovateServerConnection

QUOTES = 40
SPOTS = 40
#: A spot's ``timestamp`` is this plus its number (from 1): it numbers the spots of a capture.
SPOT_TIME = 1_764_000_000_000
SECRET = "token-that-must-be-redacted"


class Capture(NamedTuple):
    data: bytes
    boundaries: list[int]
    #: how many events the client sees before each boundary
    events_before: list[int]


def _recording(server: Any) -> tuple[bytearray, list[int], list[int]]:
    return bytearray(server.data_to_send()), [], []


def tradovate_capture(quotes: int = QUOTES) -> Capture:
    client = TradovateConnection("md.tradovateapi.com")
    server = TradovateServerConnection()
    server.receive_data(client.data_to_send(), 0.0)
    server.accept(now=0.0)  # the 101 answer and the "o" frame
    data, boundaries, counts = _recording(server)
    events = 1  # Opened
    for seq in range(1, quotes + 1):
        quote = {
            "id": seq,  # numbers the quotes of a capture
            "contractId": 3570918,
            "timestamp": "2026-11-21T10:00:00.000Z",
            "entries": {"Bid": {"price": 6000 + seq / 4, "size": seq}, "Offer": {"price": 6001}},
        }
        server.send_event("md", {"quotes": [quote]})
        if seq == quotes // 2:
            server.respond(7, 200, {"accessToken": SECRET, "userId": 1})
            server.send_heartbeat()
            events += 2  # UnmatchedResponse, ServerHeartbeat
        events += 1
        data += server.data_to_send()
        boundaries.append(len(data))
        counts.append(events)
    server.close(1000, "bye")
    data += server.data_to_send()
    return Capture(bytes(data), boundaries, counts)


def ctrader_capture(transport: str) -> Capture:
    """``transport``: ``ws``, ``tcp`` (length prefix) or ``tcp-json`` (concatenated JSON)."""
    if transport == "ws":
        client = CTraderConnection.websocket("demo.ctraderapi.com")
        server = CTraderServerConnection.websocket()
        server.receive_data(client.data_to_send(), 0.0)
        server.accept(now=0.0)  # the 101 answer: a decoder past it sees no Opened
    else:
        framing = Framing.LENGTH_PREFIX if transport == "tcp" else Framing.JSON_STREAM
        client = CTraderConnection.tcp(framing=framing)
        client.authorize_application("client-id", SECRET, now=0.0)
        server = CTraderServerConnection.tcp()
        server.receive_data(client.data_to_send(), 0.0)  # learns the client's framing
    events = 0
    data, boundaries, counts = _recording(server)
    for seq in range(1, SPOTS + 1):
        spot = {
            "ctidTraderAccountId": 44322853,
            "symbolId": 1,
            "bid": 108500 + seq,
            "timestamp": SPOT_TIME + seq,
        }
        server.send(PayloadType.PROTO_OA_SPOT_EVENT, spot)
        if seq == SPOTS // 2:
            accounts = {"accessToken": SECRET, "ctidTraderAccount": [{"ctidTraderAccountId": 1}]}
            server.send(PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_RES, accounts, "x-1")
            events += 1
        events += 1
        data += server.data_to_send()
        boundaries.append(len(data))
        counts.append(events)
    return Capture(bytes(data), boundaries, counts)


def tradovate_events_capture(events: list[tuple[str, Any]]) -> bytes:
    """The server-to-client bytes of a Tradovate session that sends ``(kind, data)`` events."""
    client = TradovateConnection("md.tradovateapi.com")
    server = TradovateServerConnection()
    server.receive_data(client.data_to_send(), 0.0)
    server.accept(now=0.0)
    for kind, data in events:
        server.send_event(kind, data)
    return server.data_to_send()


def ctrader_messages_capture(messages: list[tuple[int, dict[str, Any], str | None]]) -> bytes:
    """The bytes of a cTrader WebSocket session that sends ``(payload type, payload,
    clientMsgId)`` messages."""
    client = CTraderConnection.websocket("demo.ctraderapi.com")
    server = CTraderServerConnection.websocket()
    server.receive_data(client.data_to_send(), 0.0)
    server.accept(now=0.0)
    for payload_type, payload, client_msg_id in messages:
        server.send(payload_type, payload, client_msg_id)
    return server.data_to_send()
