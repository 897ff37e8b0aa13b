"""One fuzz target per decoder, and the checks every one of them makes.

A target takes any bytes. It builds a fresh connection (with a small ``max_message_size`` and
``max_fragments``, so that the limits are reached), feeds the bytes whole and again cut at
points derived from the bytes themselves (so a run is reproducible from its input alone), then
ends the stream, and checks:

* every event is one of the layer's documented events;
* a protocol error comes out as a ``RemoteProtocolError`` inside a ``Closed`` event, the last
  event there is, and after it the connection takes no more input;
* both feedings give the same events, the cut one read through ``receive_events`` (where the
  connection has it) left unfinished at random, sometimes with ``handle_timer`` run before the
  next call: events left unread must come out of the next call, in order;
* after every call, the bytes the connection holds stay within its limit, and a WebSocket's
  fragmented message within its count of fragments;
* each request made before the input arrived got exactly one outcome.

Anything else - an exception out of ``receive_data``, a broken check - fails the target.

The two hostile targets read some bytes of their input as stand-ins for values no 4 KiB input
holds (``expand``): integers of 4,400 and 400 digits, and nesting 1,000 levels deep.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import msgspec
from msgspec.structs import astuple, replace

from brokerwire.core import ctrader, tradovate
from brokerwire.core.ctrader import CTraderConnection, CTraderServerConnection, PayloadType
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.tcp import Framing, TcpConnection
from brokerwire.core.transport import BinaryMessage, Closed, TextMessage
from brokerwire.core.websocket import (
    ConnectionAccepted,
    ConnectionRejected,
    ConnectionRequest,
    Ping,
    Pong,
    Role,
    WebSocketConnection,
)
from brokerwire.core.websocket.connection import _MAX_SKIPPED_HEAD
from tests.helpers import client_frame, close_payload, server_frame, split_at

#: Small enough that generated input reaches it.
LIMIT = 4096
#: Frames one message may come in, small enough for the same reason.
FRAGMENTS = 16
#: The targets of hostile values: room for what a marker byte stands for (see ``expand``).
HOSTILE_LIMIT = 64 * 1024
#: A WebSocket frame header is at most 14 bytes; a length prefix is 4.
WS_HEADER = 14
#: Separates the payloads of the targets that wrap each one in a frame (never valid UTF-8).
SEPARATOR = b"\xff"
#: A clock far enough ahead that every timeout has fired.
LATER = 1_000_000.0


def _fixed_key(size: int) -> bytes:
    """The handshake's random bytes, fixed so that a run depends on its input alone."""
    return b"\x42" * size


WEBSOCKET_EVENTS = (
    TextMessage,
    BinaryMessage,
    Ping,
    Pong,
    Closed,
    ConnectionAccepted,
    ConnectionRejected,
    ConnectionRequest,
)
TCP_EVENTS = (BinaryMessage, Closed)


class TargetFailure(AssertionError):
    """A check failed for some input."""


def _check(condition: bool, message: str | Callable[[], str]) -> None:
    """Fail with ``message`` (made only then, when it is a function) unless ``condition``."""
    if not condition:
        raise TargetFailure(message if isinstance(message, str) else message())


def _show(value: Any) -> str:
    """``repr``, or for a value too deep for it (the hostile targets make them) a rendering
    made without recursion: as deterministic, so that two feedings still compare."""
    try:
        return repr(value)
    except RecursionError:
        return _flat(value)


_END = object()


def _flat(value: Any) -> str:
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if item is _END:
            out.append(")")
        elif isinstance(item, dict):
            out.append("dict(")
            stack.append(_END)
            for key, child in reversed(item.items()):
                stack += (child, key)
        elif isinstance(item, list | tuple):
            out.append(f"{type(item).__name__}(")
            stack.append(_END)
            stack += reversed(item)
        else:
            out.append(repr(item))
    return " ".join(out)


# -- what a connection holds ----------------------------------------------------------------------


def held_bytes(conn: Any) -> tuple[int, int]:
    """(bytes the connection holds for input not yet decoded, the most it may hold)."""
    if isinstance(conn, WebSocketConnection):
        _check(
            conn._frag_count <= conn._max_fragments,
            lambda: f"holds a message in {conn._frag_count} fragments, over its limit",
        )
        held = len(conn._buffer) + len(conn._frag_buffer)
        if conn._skip_head:
            return held, _MAX_SKIPPED_HEAD + LIMIT
        return held, conn._max_message_size + WS_HEADER
    if isinstance(conn, TcpConnection):
        framer = conn._receive_framer
        if framer is None:
            return 0, 0
        return len(framer._buffer), framer.max_message_size + 4
    return held_bytes(conn._transport)


# -- one run --------------------------------------------------------------------------------------


@dataclass
class Setup:
    """A connection ready for the input, and the requests it has made (awaiting outcomes)."""

    conn: Any
    requests: list[Any] = field(default_factory=list)
    #: called with the events of each call; returns the events of what it did in answer
    react: Callable[[Any, list[Any]], list[Any]] | None = None


Reader = Callable[[Any, bytes], list[Any]]


def _read_all(conn: Any, chunk: bytes) -> list[Any]:
    return list(conn.receive_data(chunk, 0.0))


def _read_some(rng: random.Random) -> Reader:
    """``receive_events`` read for a few events only, then left; sometimes the timers run."""

    def read(conn: Any, chunk: bytes) -> list[Any]:
        if not hasattr(conn, "receive_events"):
            return _read_all(conn, chunk)
        events = conn.receive_events(chunk, 0.0)
        taken = list(islice(events, rng.randrange(4)))
        if rng.random() < 0.3:
            taken += conn.handle_timer(0.0)
        return taken

    return read


def _run(
    setup: Callable[[], Setup],
    chunks: Iterable[bytes],
    allowed: tuple[type, ...],
    outcome_of: Callable[[Any], Any] | None,
    read: Reader = _read_all,
) -> list[Any]:
    ready = setup()
    conn = ready.conn
    events: list[Any] = []
    for chunk in chunks:
        if not chunk:
            continue
        received = read(conn, chunk)
        events.extend(received)
        if ready.react is not None:
            events.extend(ready.react(conn, received))
        held, most = held_bytes(conn)
        _check(held <= most, f"holds {held} bytes, more than its limit of {most}")
        _check(isinstance(conn.data_to_send(), bytes), "data_to_send() did not return bytes")
    events.extend(conn.handle_timer(LATER))
    events.extend(conn.receive_data(b"", LATER))
    events.extend(conn.receive_data(b"after the end", LATER))
    for event in events:
        if not isinstance(event, allowed):
            raise TargetFailure(f"undocumented event {_show(event)}")
    closes = [i for i, event in enumerate(events) if type(event) is Closed]
    _check(len(closes) == 1, f"{len(closes)} Closed events, expected exactly one")
    _check(
        closes[0] == len(events) - 1,
        lambda: f"events after Closed: {_show(events[closes[0] + 1 :])}",
    )
    closed = events[-1]
    if closed.error is not None:
        _check(isinstance(closed.error, RemoteProtocolError), f"error is {closed.error!r}")
        _check(bool(closed.error.message), "a protocol error without a message")
    if outcome_of is not None:
        outcomes: dict[Any, int] = {}
        for event in events:
            request = outcome_of(event)
            if request is not None:
                outcomes[request] = outcomes.get(request, 0) + 1
        for request in ready.requests:
            count = outcomes.get(request, 0)
            _check(count == 1, f"request {request!r} got {count} outcomes")
    return events


def _comparable(event: Any) -> Any:
    """What must agree between feedings: everything but the wording of an error, which may
    quote however much of the bad input had arrived."""
    if type(event) is Closed:
        error = event.error
        return ("Closed", event.code, None if error is None else error.close_code)
    if type(event) in _FAILED:
        return (type(event).__name__, _show(astuple(replace(event, reason=""))))
    return (type(event).__name__, _show(_fields(event)))


_FAILED = (tradovate.RequestFailed, ctrader.RequestFailed)


def _exact(event: Any) -> Any:
    """What must agree when all of the input arrives either way: everything, wording too."""
    if type(event) is Closed:
        return (_comparable(event), event.reason)
    return (type(event).__name__, _show(_fields(event)))


def _fields(event: Any) -> tuple[Any, ...]:
    return astuple(event) if isinstance(event, msgspec.Struct) else tuple(event)


def _rng(data: bytes) -> random.Random:
    return random.Random(zlib.crc32(data) ^ len(data))


def _cuts(data: bytes) -> list[bytes]:
    rng = _rng(data)
    if len(data) < 2:
        return [data]
    if rng.random() < 0.2:
        return [data[i : i + 1] for i in range(len(data))]
    return split_at(data, (rng.randrange(1, len(data)) for _ in range(rng.randrange(1, 24))))


def _coarse_cuts(data: bytes) -> list[bytes]:
    """A few cuts only: for inputs made large on purpose, which byte-by-byte feeding would
    spend the fuzzing time on."""
    rng = _rng(data)
    if len(data) < 2:
        return [data]
    return split_at(data, (rng.randrange(1, len(data)) for _ in range(rng.randrange(1, 24))))


def exercise(
    data: bytes,
    setup: Callable[[], Setup],
    allowed: tuple[type, ...],
    outcome_of: Callable[[Any], Any] | None = None,
    cuts: Callable[[bytes], list[bytes]] = _cuts,
) -> list[Any]:
    """Run the input whole and cut; both runs must pass every check and agree."""
    whole = _run(setup, [data], allowed, outcome_of)
    cut = _run(setup, cuts(data), allowed, outcome_of, _read_some(_rng(data)))
    _agree(whole, cut, "whole and cut")
    return whole


def _agree(
    first: list[Any], second: list[Any], how: str, key: Callable[[Any], Any] = _comparable
) -> None:
    """The same input sent two ways (``how``) must give the same events, as ``key`` sees them."""
    _check(
        [key(e) for e in first] == [key(e) for e in second],
        lambda: f"input sent {how} disagrees:\n{_show(first)}\n{_show(second)}",
    )


# -- the targets ----------------------------------------------------------------------------------


def _payloads(data: bytes) -> list[bytes]:
    return data.split(SEPARATOR)


def websocket_client(data: bytes) -> None:
    """Frames as a server sends them, to a client past the handshake."""
    exercise(
        data,
        lambda: Setup(
            WebSocketConnection(
                Role.CLIENT, already_open=True, max_message_size=LIMIT, max_fragments=FRAGMENTS
            )
        ),
        WEBSOCKET_EVENTS,
    )


def websocket_server(data: bytes) -> None:
    """Frames as a client sends them (masked), to a server past the handshake."""
    exercise(
        data,
        lambda: Setup(
            WebSocketConnection(
                Role.SERVER, already_open=True, max_message_size=LIMIT, max_fragments=FRAGMENTS
            )
        ),
        WEBSOCKET_EVENTS,
    )


def _handshake_client() -> Setup:
    conn = WebSocketConnection(
        Role.CLIENT,
        host="broker.test",
        max_message_size=LIMIT,
        max_fragments=FRAGMENTS,
        random_bytes=_fixed_key,
    )
    conn.data_to_send()
    return Setup(conn)


def handshake_client(data: bytes) -> None:
    """A server's answer to the upgrade request, then frames."""
    exercise(data, _handshake_client, WEBSOCKET_EVENTS)


def _accept_upgrade(conn: WebSocketConnection, events: list[Any]) -> list[Any]:
    if any(type(event) is ConnectionRequest for event in events):
        return conn.accept()
    return []


def handshake_server(data: bytes) -> None:
    """A client's upgrade request (accepted when it is one), then frames."""
    exercise(
        data,
        lambda: Setup(
            WebSocketConnection(Role.SERVER, max_message_size=LIMIT, max_fragments=FRAGMENTS),
            react=_accept_upgrade,
        ),
        WEBSOCKET_EVENTS,
    )


def length_prefix(data: bytes) -> None:
    exercise(
        data,
        lambda: Setup(TcpConnection(receive_framing=Framing.LENGTH_PREFIX, max_message_size=LIMIT)),
        TCP_EVENTS,
    )


def json_stream(data: bytes) -> None:
    """Concatenated JSON objects."""
    exercise(
        data,
        lambda: Setup(TcpConnection(receive_framing=Framing.JSON_STREAM, max_message_size=LIMIT)),
        TCP_EVENTS,
    )


TRADOVATE_EVENTS = tuple(tradovate.TradovateEvent.__args__)  # type: ignore[attr-defined]


def _tradovate_outcome(event: Any) -> int | None:
    if isinstance(event, tradovate.RequestOutcome):  # type: ignore[arg-type]
        return int(event.request_id)
    return None


def _tradovate_client(limit: int = LIMIT) -> Setup:
    conn = tradovate.TradovateConnection(
        already_open=True, max_message_size=limit, max_fragments=FRAGMENTS, random_bytes=_fixed_key
    )
    conn.receive_data(server_frame(0x1, b"o"), 0.0)
    requests = [
        conn.authorize("fuzz-token", now=0.0),
        conn.request("account/list", now=0.0),
        conn.request("md/subscribequote", body={"symbol": "ESZ6"}, now=0.0),
        conn.request("order/placeorder", body={"symbol": "ESZ6", "orderQty": 1}, now=0.0),
    ]
    conn.data_to_send()
    return Setup(conn, requests)


def tradovate_stream(data: bytes) -> None:
    """Raw bytes from a Tradovate server, after ``o`` and four requests."""
    exercise(data, _tradovate_client, TRADOVATE_EVENTS, _tradovate_outcome)


def _in_text_frames(
    data: bytes,
    setup: Callable[[], Setup],
    allowed: tuple[type, ...],
    outcome_of: Callable[[Any], Any],
    cuts: Callable[[bytes], list[bytes]] = _cuts,
) -> None:
    """Each payload of ``data`` in one text frame, then each split over two fragments (a text
    frame and a continuation, cut at a point derived from the input): both must pass every check
    and give the same events, down to an error's words, as a message means the same however the
    WebSocket framed it."""
    payloads = _payloads(data)
    framed = b"".join(server_frame(0x1, p) for p in payloads)
    whole = exercise(framed, setup, allowed, outcome_of, cuts)
    rng = _rng(data)
    fragments = []
    for payload in payloads:
        cut = rng.randint(0, len(payload))
        fragments.append(server_frame(0x1, payload[:cut], fin=False))
        fragments.append(server_frame(0x0, payload[cut:]))
    split = exercise(b"".join(fragments), setup, allowed, outcome_of, cuts)
    _agree(whole, split, "whole and in fragments", _exact)


def tradovate_frames(data: bytes) -> None:
    """Tradovate frame texts (``a[...]``, ``h``, ``c[...]``) in text frames, whole and in two
    fragments each."""
    _in_text_frames(data, _tradovate_client, TRADOVATE_EVENTS, _tradovate_outcome)


def _tradovate_server() -> Setup:
    client = tradovate.TradovateConnection("broker.test", random_bytes=_fixed_key)
    conn = tradovate.TradovateServerConnection(max_message_size=LIMIT, heartbeat_interval=None)
    conn.receive_data(client.data_to_send(), 0.0)
    conn.accept(now=0.0)
    conn.data_to_send()
    return Setup(conn)


def tradovate_requests(data: bytes) -> None:
    """Request documents (``endpoint\\nid\\nquery\\nbody``), each sent as a masked text frame."""
    stream = b"".join(client_frame(0x1, payload) for payload in _payloads(data))
    exercise(stream, _tradovate_server, TRADOVATE_SERVER_EVENTS)


TRADOVATE_SERVER_EVENTS = (
    tradovate.ClientRequest,
    tradovate.ClientHeartbeat,
    Closed,
    ConnectionRequest,
)

CTRADER_EVENTS = tuple(ctrader.CTraderEvent.__args__)  # type: ignore[attr-defined]


def _ctrader_outcome(event: Any) -> str | None:
    if isinstance(event, ctrader.RequestOutcome):  # type: ignore[arg-type]
        return str(event.client_msg_id)
    return None


def _ctrader_client(
    framing: Framing | None, websocket: bool = False, limit: int = LIMIT
) -> Callable[[], Setup]:
    """A client with three requests pending: over TCP (``framing``) or a WebSocket."""

    def setup() -> Setup:
        if websocket:
            conn = CTraderConnection.websocket(
                already_open=True, max_message_size=limit, max_fragments=FRAGMENTS
            )
        else:
            conn = CTraderConnection.tcp(receive_framing=framing, max_message_size=limit)
        requests = [
            conn.authorize_application("fuzz-client", "fuzz-secret", now=0.0),
            conn.get_accounts("fuzz-token", now=0.0),
            conn.request(PayloadType.PROTO_OA_VERSION_REQ, now=0.0),
        ]
        conn.data_to_send()
        return Setup(conn, requests)

    return setup


def ctrader_stream(data: bytes) -> None:
    """Raw bytes from a cTrader proxy over TCP, framing recognised from the first byte."""
    exercise(data, _ctrader_client(None), CTRADER_EVENTS, _ctrader_outcome)


def ctrader_envelopes(data: bytes) -> None:
    """cTrader JSON envelopes, each sent with a length prefix; then over a WebSocket, in text
    frames whole and in two fragments each."""
    prefixed = b"".join(len(p).to_bytes(4, "big") + p for p in _payloads(data))
    exercise(prefixed, _ctrader_client(Framing.LENGTH_PREFIX), CTRADER_EVENTS, _ctrader_outcome)
    _in_text_frames(data, _ctrader_client(None, websocket=True), CTRADER_EVENTS, _ctrader_outcome)


def ctrader_server(data: bytes) -> None:
    """What a client sends a cTrader server over TCP, either framing."""
    exercise(
        data,
        lambda: Setup(CTraderServerConnection.tcp(max_message_size=LIMIT, heartbeat_interval=None)),
        (ctrader.ClientMessage, Closed),
    )


# -- hostile values: what a 4 KiB input cannot hold, one byte standing for each -------------------

#: In the input of a hostile target each of these bytes (none is valid in JSON text) stands for
#: a hostile value; only the first few are expanded, so that an input stays cheap to run.
EXPANSIONS = {
    0x01: b"9" * 4400,  # an integer past json's 4,300-digit limit
    0x02: b"9" * 400,  # an integer beyond a double's range
    0x03: b"[" * 1000,  # nesting as deep as the interpreter's recursion limit
    0x04: b"]" * 1000,
}
MAX_EXPANSIONS = 6


def expand(data: bytes) -> bytes:
    """``data`` with its first ``MAX_EXPANSIONS`` marker bytes replaced by what they stand for."""
    out = bytearray()
    left = MAX_EXPANSIONS
    for byte in data:
        value = EXPANSIONS.get(byte) if left else None
        if value is None:
            out.append(byte)
        else:
            out += value
            left -= 1
    return bytes(out)


def tradovate_hostile(data: bytes) -> None:
    """Tradovate frame texts holding huge numbers and deep nesting (``expand``), in text
    frames whole and in two fragments each."""
    _in_text_frames(
        expand(data),
        lambda: _tradovate_client(HOSTILE_LIMIT),
        TRADOVATE_EVENTS,
        _tradovate_outcome,
        _coarse_cuts,
    )


def ctrader_hostile(data: bytes) -> None:
    """cTrader envelopes holding huge numbers and deep nesting (``expand``): to a client with
    length prefixes, over a WebSocket whole and in fragments, and to a server."""
    expanded = expand(data)
    prefixed = b"".join(len(p).to_bytes(4, "big") + p for p in _payloads(expanded))
    client = _ctrader_client(Framing.LENGTH_PREFIX, limit=HOSTILE_LIMIT)
    exercise(prefixed, client, CTRADER_EVENTS, _ctrader_outcome, _coarse_cuts)
    ws_client = _ctrader_client(None, websocket=True, limit=HOSTILE_LIMIT)
    _in_text_frames(expanded, ws_client, CTRADER_EVENTS, _ctrader_outcome, _coarse_cuts)
    exercise(
        prefixed,
        lambda: Setup(
            CTraderServerConnection.tcp(max_message_size=HOSTILE_LIMIT, heartbeat_interval=None)
        ),
        (ctrader.ClientMessage, Closed),
        cuts=_coarse_cuts,
    )


# -- seeds: valid input for each target, for the mutations to start from --------------------------


def _text(payload: str) -> bytes:
    return server_frame(0x1, payload.encode())


def _tradovate_frame_texts() -> list[bytes]:
    quote = (
        '{"e":"md","d":{"quotes":[{"id":1,"contractId":3570918,"timestamp":"2026-11-21T10:00:00Z",'
        '"entries":{"Bid":{"price":6000.25,"size":12},"Offer":{"price":6000.5,"size":3}}}]}}'
    )
    return [
        ("a[" + quote + "]").encode(),
        b'a[{"s":200,"i":1,"d":{"accessToken":"x","userId":7}},{"s":200,"i":2,"d":[]}]',
        b'a[{"s":200,"i":3,"d":{"p-ticket":"t","p-time":2}}]',
        b'a[{"s":429,"i":4,"d":"Too many"},{"s":404,"i":9,"d":"\\"nope\\""}]',
        b'a[{"e":"props","d":{"entityType":"order","eventType":"Created","entity":{"id":5,'
        b'"accountId":7,"timestamp":"2026-12-06T10:00:00Z","action":"Buy","ordStatus":"Working",'
        b'"admin":false}}}]',
        b'a[{"e":"chart","d":{"charts":[{"id":1,"eoh":true}]}}]',
        b'a[{"e":"clock","d":"{\\"t\\":\\"2026-11-21T10:00Z\\",\\"s\\":4}"}]',
        b'a[{"e":"shutdown","d":{"reasonCode":"Maintenance","reason":"bye"}}]',
        b'a[{"e":"future-kind","d":{}}]',
        b"h",
        b"o",
        b'c[3000,"Go away!"]',
        b"a[]",
    ]


def _ctrader_envelopes() -> list[bytes]:
    return [
        b'{"clientMsgId":"bw-1","payloadType":2101,"payload":{}}',
        b'{"clientMsgId":"bw-2","payloadType":2150,"payload":{"accessToken":"x",'
        b'"ctidTraderAccount":[{"ctidTraderAccountId":44322853,"isLive":false}]}}',
        b'{"clientMsgId":"bw-3","payloadType":2142,"payload":{"errorCode":"INVALID_REQUEST",'
        b'"description":"bad"}}',
        b'{"payloadType":2131,"payload":{"ctidTraderAccountId":44322853,"symbolId":1,'
        b'"bid":108500,"ask":108520,"trendbar":[]}}',
        b'{"payloadType":2147,"payload":{"ctidTraderAccountIds":[1],"reason":"expired"}}',
        b'{"payloadType":2148,"payload":{"reason":"maintenance"}}',
        b'{"payloadType":2164,"payload":{"ctidTraderAccountId":44322853}}',
        b'{"payloadType":51,"payload":{}}',
        b'{"clientMsgId":"bw-3","payloadType":50,"payload":{"errorCode":"BLOCKED_PAYLOAD_TYPE",'
        b'"retryAfter":1000}}',
        b'{"payloadType":9999,"payload":{"x":[1,2,{"y":null}]}}',
    ]


def _websocket_frames(frame: Callable[..., bytes]) -> bytes:
    return b"".join(
        [
            frame(0x1, b"hello"),
            frame(0x2, bytes(range(40))),
            frame(0x9, b"ping"),
            frame(0xA, b"pong"),
            frame(0x1, b"frag", fin=False),
            frame(0x9, b""),
            frame(0x0, "mented \u00e9".encode(), fin=True),
            frame(0x1, b"x" * 300),
            frame(0x8, close_payload(1000, "bye")),
        ]
    )


def _fragment_floods(frame: Callable[..., bytes]) -> bytes:
    """A message in exactly the most fragments allowed, then one in more (closed with 1009)."""
    at_limit = [frame(0x1, b"a", fin=False)]
    at_limit += [frame(0x0, b"", fin=False)] * (FRAGMENTS - 2)
    at_limit.append(frame(0x0, b"z"))
    over = [frame(0x1, b"b", fin=False)] + [frame(0x0, b"", fin=False)] * FRAGMENTS
    return b"".join(at_limit + over)


def _tradovate_hostile_texts() -> list[bytes]:
    return [
        b'a[{"s":200,"i":2,"d":\x01}]',
        b'a[{"e":"clock","d":{"t":"x","s":NaN}},{"e":"clock","d":{"t":"x","s":-Infinity}}]',
        b'a[{"e":"clock","d":"{\\"t\\":\\"x\\",\\"s\\":\x01}"}]',
        b'a[{"s":200,"i":3,"d":{"p-ticket":"t","p-time":\x02}}]',
        b'a[{"s":400,"i":4,"d":\x03\x04},{"s":200,"i":2,"d":{"p-ticket":\x03\x04}}]',
        b'a[{"e":"shutdown","d":{"reasonCode":\x03\x04}}]',
        b"a[\x03\x04]",
        b'a[{"e":"md","d":{"quotes":[{"id":1,"contractId":\x02}]}}]',
    ]


def _ctrader_hostile_envelopes() -> list[bytes]:
    return [
        b'{"clientMsgId":"bw-1","payloadType":2142,"payload":{"errorCode":"X","retryAfter":\x02}}',
        b'{"clientMsgId":"bw-2","payloadType":50,"payload":{"errorCode":"X","retryAfter":"\x02"}}',
        b'{"clientMsgId":"bw-3","payloadType":2142,"payload":{"errorCode":\x03\x04,'
        b'"description":\x03\x04}}',
        b'{"payloadType":2148,"payload":{"reason":\x03\x04}}',
        b'{"payloadType":2147,"payload":{"ctidTraderAccountIds":\x03\x04,"reason":"r"}}',
        b'{"payloadType":2131,"payload":{"ctidTraderAccountId":\x02,"symbolId":1,"bid":\x01}}',
    ]


def _handshake_response() -> bytes:
    client = WebSocketConnection(Role.CLIENT, host="broker.test", random_bytes=_fixed_key)
    server = WebSocketConnection(Role.SERVER)
    server.receive_data(client.data_to_send(), 0.0)
    server.accept()
    return server.data_to_send()


def _handshake_request() -> bytes:
    client = WebSocketConnection(Role.CLIENT, host="broker.test", random_bytes=_fixed_key)
    return client.data_to_send()


def _json_objects(envelopes: Sequence[bytes]) -> bytes:
    return b"\n".join(envelopes) + b' {"a":"}{\\"","b":[{}]}\r\n'


@dataclass(frozen=True)
class Target:
    name: str
    run: Callable[[bytes], None]
    seeds: Callable[[], list[bytes]]


def _prefixed(messages: Sequence[bytes]) -> bytes:
    return b"".join(len(m).to_bytes(4, "big") + m for m in messages)


TARGETS: dict[str, Target] = {
    target.name: target
    for target in [
        Target(
            "websocket-client",
            websocket_client,
            lambda: [_websocket_frames(server_frame), _fragment_floods(server_frame)],
        ),
        Target(
            "websocket-server",
            websocket_server,
            lambda: [_websocket_frames(client_frame), _fragment_floods(client_frame)],
        ),
        Target(
            "handshake-client",
            handshake_client,
            lambda: [_handshake_response() + _websocket_frames(server_frame)],
        ),
        Target(
            "handshake-server",
            handshake_server,
            lambda: [_handshake_request() + _websocket_frames(client_frame)],
        ),
        Target("length-prefix", length_prefix, lambda: [_prefixed(_ctrader_envelopes())]),
        Target("json-stream", json_stream, lambda: [_json_objects(_ctrader_envelopes())]),
        Target(
            "tradovate-stream",
            tradovate_stream,
            lambda: [b"".join(server_frame(0x1, t) for t in _tradovate_frame_texts())],
        ),
        Target(
            "tradovate-frames",
            tradovate_frames,
            lambda: [SEPARATOR.join(_tradovate_frame_texts()), *_tradovate_frame_texts()],
        ),
        Target(
            "tradovate-requests",
            tradovate_requests,
            lambda: [
                SEPARATOR.join(
                    [
                        b'authorize\n1\n\n{"token":"x"}',
                        b'md/subscribequote\n2\n\n{"symbol":"ESZ6"}',
                        b"contract/find\n3\nname=ESZ6\n",
                        b"[]",
                        b"account/list\n4",
                    ]
                )
            ],
        ),
        Target(
            "ctrader-stream",
            ctrader_stream,
            lambda: [_prefixed(_ctrader_envelopes()), _json_objects(_ctrader_envelopes())],
        ),
        Target(
            "ctrader-envelopes",
            ctrader_envelopes,
            lambda: [SEPARATOR.join(_ctrader_envelopes()), *_ctrader_envelopes()],
        ),
        Target(
            "ctrader-server",
            ctrader_server,
            lambda: [_prefixed(_ctrader_envelopes()), _json_objects(_ctrader_envelopes())],
        ),
        Target(
            "tradovate-hostile",
            tradovate_hostile,
            lambda: [SEPARATOR.join(_tradovate_hostile_texts()), *_tradovate_hostile_texts()],
        ),
        Target(
            "ctrader-hostile",
            ctrader_hostile,
            lambda: [SEPARATOR.join(_ctrader_hostile_envelopes()), *_ctrader_hostile_envelopes()],
        ),
    ]
}

__all__ = ["LIMIT", "TARGETS", "Target", "TargetFailure", "exercise", "held_bytes"]
