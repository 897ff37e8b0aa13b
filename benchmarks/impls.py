"""The decoders a benchmark compares: brokerwire (both ways of receiving), three baselines,
and brokerwire's frame decoder with the JSON library alone, about the most a decoder built on
them can do.

Each is a ``Decoder``: ``prepare(workload)`` builds what one timed run needs (connections
past their handshake, requests the stream answers) and is not timed; the callable it returns
decodes the chunks and returns how many messages it delivered, which the benchmark checks
against the workload before it trusts any timing.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from typing import Any, cast

from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from brokerwire.adapters.cli.decode import capture_connection
from brokerwire.core import jsonlib, tradovate
from brokerwire.core.ctrader import SpotEvent
from brokerwire.core.tcp import Framing, TcpConnection
from brokerwire.core.tradovate import TradovateConnection
from brokerwire.core.websocket import Role, WebSocketConnection
from brokerwire.core.websocket import TextMessage as FragmentedText

from .streams import OPEN_FRAME, Workload

HAVE_WEBSOCKETS = importlib.util.find_spec("websockets") is not None
if HAVE_WEBSOCKETS:  # the bench extra; without it, that baseline is left out
    # Installed but changed: fail here, loudly, rather than leave the baseline out unseen.
    from websockets.client import ClientProtocol
    from websockets.frames import Frame, Opcode
    from websockets.http11 import Request as HandshakeRequest
    from websockets.server import ServerProtocol
    from websockets.uri import parse_uri

__all__ = ["DECODERS", "HAVE_WEBSOCKETS", "Decoder", "Run", "library_loads"]

#: decodes the chunks of one run; returns the messages delivered
Run = Callable[[list[bytes]], int]
#: builds a run for a workload; None when the decoder does not apply (no WebSocket over TCP)
Decoder = Callable[[Workload], Run | None]

# The events that deliver a message (a program's handler would be called for each).
_COUNTED = frozenset({tradovate.MarketData, tradovate.EntityChanged, tradovate.Response, SpotEvent})


# -- brokerwire -----------------------------------------------------------------------------------


def _tradovate_connection(workload: Workload) -> TradovateConnection:
    """A client past the handshake and the ``o`` frame, with the stream's requests pending."""
    conn: TradovateConnection = capture_connection("tradovate", "ws")
    conn.receive_data(OPEN_FRAME, 0.0)
    conn.authorize("benchmark-token")
    for expected in workload.request_ids:
        request_id = conn.request("order/placeorder", body={"accountId": 7001})
        assert request_id == expected, (request_id, expected)
    conn.data_to_send()
    return conn


def _brokerwire_connection(workload: Workload) -> tuple[Any, int]:
    """The client connection, and how many bytes of the stream it has already been given."""
    if workload.broker == "tradovate":
        return _tradovate_connection(workload), len(OPEN_FRAME)
    return capture_connection("ctrader", workload.transport), 0


def _brokerwire(method: str) -> Decoder:
    def decoder(workload: Workload) -> Run:
        conn, skip = _brokerwire_connection(workload)
        receive = getattr(conn, method)
        counted = _COUNTED

        def run(chunks: list[bytes]) -> int:
            delivered = 0
            first = chunks[0][skip:]
            for chunk in (first, *chunks[1:]):
                for event in receive(chunk, 0.0):
                    if type(event) in counted:
                        delivered += 1
            return delivered

        return run

    return decoder


#: ``receive_events``: each message decoded as the loop asks for it
brokerwire = _brokerwire("receive_events")
#: ``receive_data``: every message of a chunk decoded into a list first
brokerwire_list = _brokerwire("receive_data")


# -- the naive pipeline: wsproto, json.loads, a dict of handlers ----------------------------------


def _handle(message: dict[str, Any]) -> None:
    """What a dispatch target does at the least: look at the message."""
    message.get("d")


def _tradovate_dispatch(loads: Callable[[Any], Any]) -> Callable[[Any], int]:
    handlers: dict[Any, Callable[[dict[str, Any]], None]] = {
        "md": _handle,
        "props": _handle,
        "chart": _handle,
        "shutdown": _handle,
    }

    def dispatch(text: Any) -> int:
        kind = text[0]
        if kind not in ("a", 0x61):  # o, h, c frames carry no messages to deliver
            return 0
        messages = loads(text[1:])
        for message in messages:
            handlers.get(message.get("e"), _handle)(message)
        return len(messages)

    return dispatch


def _ctrader_dispatch(loads: Callable[[Any], Any]) -> Callable[[Any], int]:
    handlers: dict[Any, Callable[[dict[str, Any]], None]] = {2131: _handle, 2155: _handle}

    def dispatch(text: Any) -> int:
        message = loads(text)
        handlers.get(message.get("payloadType"), _handle)(message)
        return 1

    return dispatch


def _dispatch(workload: Workload) -> Callable[[Any], int]:
    if workload.broker == "tradovate":
        return _tradovate_dispatch(json.loads)
    return _ctrader_dispatch(json.loads)


def naive_wsproto(workload: Workload) -> Run | None:
    if workload.transport != "ws":
        return None
    client = WSConnection(ConnectionType.CLIENT)
    server = WSConnection(ConnectionType.SERVER)
    server.receive_data(client.send(Request(host="bench.test", target="/v1/websocket")))
    for _ in server.events():
        pass
    client.receive_data(server.send(AcceptConnection()))
    for _ in client.events():
        pass
    dispatch = _dispatch(workload)

    def run(chunks: list[bytes]) -> int:
        delivered = 0
        parts: list[str] = []
        for chunk in chunks:
            client.receive_data(chunk)
            for event in client.events():
                if type(event) is TextMessage:
                    if event.message_finished and not parts:
                        delivered += dispatch(event.data)
                    else:
                        parts.append(event.data)
                        if event.message_finished:
                            delivered += dispatch("".join(parts))
                            parts.clear()
        return delivered

    return run


# -- websockets' sans-I/O protocol + json.loads --------------------------------------------------


def websockets_protocol(workload: Workload) -> Run | None:
    if workload.transport != "ws" or not HAVE_WEBSOCKETS:
        return None
    client = ClientProtocol(parse_uri("ws://bench.test/v1/websocket"), max_size=None)
    client.send_request(client.connect())
    server = ServerProtocol(max_size=None)
    server.receive_data(b"".join(client.data_to_send()))
    (request,) = server.events_received()
    assert isinstance(request, HandshakeRequest)
    server.send_response(server.accept(request))
    client.receive_data(b"".join(server.data_to_send()))
    client.events_received()
    dispatch = _dispatch(workload)
    data_opcodes = (Opcode.TEXT, Opcode.CONT)
    # Past the handshake the protocol only hands out frames.
    frames_received = cast(Callable[[], list[Frame]], client.events_received)

    def run(chunks: list[bytes]) -> int:
        delivered = 0
        parts: list[bytes | bytearray | memoryview] = []
        for chunk in chunks:
            client.receive_data(chunk)
            for frame in frames_received():
                if frame.opcode in data_opcodes:
                    if frame.fin and not parts:
                        delivered += dispatch(frame.data)
                    else:
                        parts.append(frame.data)
                        if frame.fin:
                            delivered += dispatch(b"".join(parts))
                            parts.clear()
        return delivered

    return run


# -- brokerwire's frame decoder and the JSON library, with no broker layer -----------------------


def _bare_count(broker: str) -> Callable[[bytes], int]:
    """Parse a payload the quickest way the JSON library allows; return how many messages."""
    scan, loads = jsonlib.scan_text, jsonlib.fast_loads_utf8
    if broker == "tradovate":  # past the open frame, every payload is an ``a`` frame
        if scan is None:

            def count(payload: bytes) -> int:
                return len(loads(payload[1:]))

        else:

            def count(payload: bytes) -> int:
                return len(scan(payload.decode(), 1)[0])

    elif scan is None:

        def count(payload: bytes) -> int:
            loads(payload)
            return 1

    else:

        def count(payload: bytes) -> int:
            scan(payload.decode(), 0)
            return 1

    return count


def _bare_count_text(broker: str) -> Callable[[str], int]:
    """The same for a message that came in several frames, which the transport hands over as
    text."""
    start = 1 if broker == "tradovate" else 0

    def count(text: str) -> int:
        value = jsonlib.loads(text[start:] if start else text)
        return len(value) if start else 1

    return count


def frames_json(workload: Workload) -> Run:
    """brokerwire's own frame decoder, then the JSON library on each payload, and nothing more.

    No broker layer (no look at what a message is, no checks, no requests matched) and no
    events: about the most a decoder built on this frame decoder and this JSON library can do.
    What the brokerwire row costs beyond this one is its broker layer.
    """
    transport: WebSocketConnection | TcpConnection
    if workload.transport == "ws":
        transport = WebSocketConnection(Role.CLIENT, already_open=True)
    else:
        transport = TcpConnection(Framing.LENGTH_PREFIX)
    receive = transport.receive_messages
    count, count_text = _bare_count(workload.broker), _bare_count_text(workload.broker)
    skip = len(OPEN_FRAME) if workload.broker == "tradovate" else 0

    def run(chunks: list[bytes]) -> int:
        delivered = 0
        for chunk in (chunks[0][skip:], *chunks[1:]):
            for item in receive(chunk, 0.0):
                if type(item) is bytes:
                    delivered += count(item)
                elif type(item) is FragmentedText:  # a message sent in several frames
                    delivered += count_text(item.data)
        return delivered

    return run


# -- the floor: the JSON library alone ------------------------------------------------------------


def library_loads() -> Callable[[bytes], Any]:
    """The ``loads`` of the JSON library brokerwire uses, with nothing of brokerwire's around it.

    Not ``jsonlib.loads``: with orjson that wraps the library in a Python function (to hand
    what orjson refuses to ``json``), which would slow the floor it is measured against.
    """
    if jsonlib.BACKEND == "orjson":
        return jsonlib.fast_loads_utf8  # orjson.loads itself
    return json.loads


def json_floor(workload: Workload) -> Run:
    """The JSON library's own ``loads`` on each payload, already cut out of its frame."""
    loads = library_loads()
    payloads = workload.payloads
    messages = workload.messages

    def run(chunks: list[bytes]) -> int:
        for payload in payloads:
            loads(payload)
        return messages

    return run


DECODERS: dict[str, Decoder] = {
    "brokerwire": brokerwire,
    "brokerwire-list": brokerwire_list,
    "naive-wsproto": naive_wsproto,
    "websockets": websockets_protocol,
    "frames-json": frames_json,
    "json-floor": json_floor,
}
