"""The decoders a benchmark compares: brokerwire (both ways of receiving), the pipelines a
user would write on wsproto or websockets, brokerwire's frame decoder with msgspec alone, and
the floors (``floors.py``).

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

import msgspec
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from brokerwire.adapters.cli.decode import capture_connection
from brokerwire.core import tradovate
from brokerwire.core.ctrader import SpotEvent
from brokerwire.core.tcp import Framing, TcpConnection
from brokerwire.core.tradovate import TradovateConnection
from brokerwire.core.websocket import Role, WebSocketConnection
from brokerwire.core.websocket import TextMessage as FragmentedText

from . import floors
from .floors import HAVE_ORJSON, Run, typed_decoder
from .streams import OPEN_FRAME, Workload

HAVE_WEBSOCKETS = importlib.util.find_spec("websockets") is not None
if HAVE_WEBSOCKETS:  # the bench extra; without it, that baseline is left out
    # Installed but changed: fail here, loudly, rather than leave the baseline out unseen.
    from websockets.client import ClientProtocol
    from websockets.frames import Frame, Opcode
    from websockets.http11 import Request as HandshakeRequest
    from websockets.server import ServerProtocol
    from websockets.uri import parse_uri
if HAVE_ORJSON:
    import orjson

__all__ = ["DECODERS", "HAVE_ORJSON", "HAVE_WEBSOCKETS", "Decoder", "Run"]

#: builds a run for a workload; None when the decoder does not apply (no WebSocket over TCP,
#: no typed model, a library not installed)
Decoder = Callable[[Workload], Run | None]

# The events that deliver a message (a program's handler would be called for each).
_COUNTED = frozenset({tradovate.MarketData, tradovate.EntityChanged, tradovate.Response, SpotEvent})


# -- brokerwire -----------------------------------------------------------------------------------


def _tradovate_connection(workload: Workload) -> TradovateConnection:
    """A client past the handshake and the ``o`` frame, with the stream's requests pending."""
    conn: TradovateConnection = capture_connection("tradovate", "ws")
    conn.receive_data(OPEN_FRAME, 0.0)
    conn.authorize("benchmark-token")
    # The large workload's answers are user/syncrequest answers; the batched one's, orders'.
    sync = workload.name == "large"
    for expected in workload.request_ids:
        if sync:
            request_id = conn.request("user/syncrequest", body={"users": [7001]})
        else:
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


def _dispatch(workload: Workload, loads: Callable[[Any], Any]) -> Callable[[Any], int]:
    if workload.broker == "tradovate":
        return _tradovate_dispatch(loads)
    return _ctrader_dispatch(loads)


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
    dispatch = _dispatch(workload, json.loads)

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


# -- websockets' sans-I/O protocol, with json.loads or orjson.loads --------------------------------


def _websockets_client() -> Any:
    """websockets' client protocol past its handshake with its own server protocol."""
    client = ClientProtocol(parse_uri("ws://bench.test/v1/websocket"), max_size=None)
    client.send_request(client.connect())
    server = ServerProtocol(max_size=None)
    server.receive_data(b"".join(client.data_to_send()))
    (request,) = server.events_received()
    assert isinstance(request, HandshakeRequest)
    server.send_response(server.accept(request))
    client.receive_data(b"".join(server.data_to_send()))
    client.events_received()
    return client


def _websockets(loads: Callable[[Any], Any], available: bool) -> Decoder:
    """websockets' sans-I/O ``ClientProtocol`` fed the stream, ``loads`` on each text message."""

    def decoder(workload: Workload) -> Run | None:
        if workload.transport != "ws" or not (HAVE_WEBSOCKETS and available):
            return None
        client = _websockets_client()
        dispatch = _dispatch(workload, loads)
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

    return decoder


#: what a user of websockets writes with the standard library
websockets_json = _websockets(json.loads, True)
#: what a speed-minded user of websockets writes
websockets_orjson = _websockets(orjson.loads if HAVE_ORJSON else json.loads, HAVE_ORJSON)


# -- brokerwire's frame decoder and msgspec, with no broker layer ---------------------------------


def frames_msgspec(workload: Workload) -> Run:
    """brokerwire's own frame decoder, then msgspec on each payload, and nothing more.

    No broker layer (no look at what a message is, no checks, no requests matched) and no
    events: about the most a decoder built on this frame decoder and msgspec can do. Payloads
    go into the floor's typed models where the workload has them (quotes, spots), into plain
    values elsewhere. What the brokerwire row costs beyond this one is its broker layer.
    """
    transport: WebSocketConnection | TcpConnection
    if workload.transport == "ws":
        transport = WebSocketConnection(Role.CLIENT, already_open=True)
    else:
        transport = TcpConnection(Framing.LENGTH_PREFIX)
    receive = transport.receive_messages
    decode = typed_decoder(workload) or msgspec.json.decode
    tradovate_frames = workload.broker == "tradovate"  # past the open frame, all ``a`` frames
    skip = len(OPEN_FRAME) if tradovate_frames else 0

    def count(payload: bytes | memoryview | str) -> int:
        if tradovate_frames:
            return len(decode(payload[1:]))
        decode(payload)
        return 1

    def run(chunks: list[bytes]) -> int:
        delivered = 0
        for chunk in (chunks[0][skip:], *chunks[1:]):
            for item in receive(chunk, 0.0):
                if type(item) is bytes:
                    delivered += count(memoryview(item))
                elif type(item) is FragmentedText:  # a message sent in several frames
                    delivered += count(item.data)
        return delivered

    return run


DECODERS: dict[str, Decoder] = {
    "brokerwire": brokerwire,
    "brokerwire-list": brokerwire_list,
    "naive-wsproto": naive_wsproto,
    "websockets": websockets_json,
    "websockets-orjson": websockets_orjson,
    "frames-msgspec": frames_msgspec,
    "json-floor": floors.json_floor,
    "orjson-floor": floors.orjson_floor,
    "msgspec-floor": floors.msgspec_floor,
}
