"""The events of the server's messages: the typed market-data path and the general one.

An ``a`` frame of market data alone (``a[{"e":"md","d":{...}}, ...]``, what a quote stream is
made of) decodes in one pass straight into ``MarketData`` Structs, and the answer to
``user/syncrequest`` into one ``SyncSnapshot``. Any other frame is read message by message, each
message's ``d`` kept raw until its kind says how to read it (market data typed from its bytes,
the rest as plain JSON): a server event goes to its kind's builder here, a response to the
connection, which matches it to its request. A frame that is not an array of objects is decoded
whole (``decode_array_frame``). Valid JSON in a shape an event cannot hold never ends the
connection: it arrives as an ``UnknownEvent`` carrying the raw message and the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any, Literal

import msgspec

from .._guards import is_utf8, safe_preview, text_of
from ..jsonlib import ValidationError, convert, decoder, loads
from .events import (
    Chart,
    EntityChanged,
    EntityEventType,
    MarketData,
    ReplayClock,
    Shutdown,
    TradovateEvent,
    UnknownEvent,
)
from .market import BarPacket, ChartPacket, EndOfHistory, TickPacket
from .models import ENTITY_TYPES, SyncSnapshot

__all__ = [
    "SYNC_ENDPOINT",
    "MarketDataMessage",
    "answer_request_id",
    "decode_market_frame",
    "decode_sync_answer",
    "not_an_object",
    "read_frame_messages",
    "server_event",
    "sync_snapshot_of",
]

#: The request whose answer arrives as one typed ``SyncSnapshot``.
SYNC_ENDPOINT = "user/syncrequest"


class MarketDataMessage(msgspec.Struct, frozen=True, gc=False):
    """One message of a market-data frame: ``{"e": "md", "d": {...}}``."""

    e: Literal["md"]
    d: MarketData


_decode_market_messages = decoder(list[MarketDataMessage])
#: The ``d`` of a message that has none (told apart from ``"d": null`` by identity).
_ABSENT = msgspec.Raw(b"null")
#: How every ``a`` frame of market data starts (the server writes ``e`` before ``d``).
_MARKET_FRAME = b'a[{"e":"md"'


def decode_market_frame(frame: bytes) -> list[MarketDataMessage] | None:
    """The messages of an ``a`` frame of market data alone, typed in one pass from its bytes;
    each message's ``d`` is its event.

    None when the frame is anything else, or holds something the models do not take, or is
    not UTF-8 (a typed decoder skips the fields it does not model unread): the general path
    then reads it, and says what was wrong.
    """
    if not frame.startswith(_MARKET_FRAME) or (not frame.isascii() and not is_utf8(frame)):
        return None
    try:
        return _decode_market_messages(frame[1:])
    except (ValueError, RecursionError):
        return None


class _FrameMessage(msgspec.Struct, frozen=True, gc=False):
    """One message of an ``a`` frame, its ``d`` kept as raw JSON until its kind says how to
    read it."""

    e: Any = msgspec.UNSET
    i: Any = msgspec.UNSET
    s: Any = msgspec.UNSET
    d: msgspec.Raw = _ABSENT


_decode_frame_messages = decoder(list[_FrameMessage])
_decode_market_data = decoder(MarketData)


def read_frame_messages(frame: bytes) -> list[dict[str, Any]] | None:
    """The messages of an ``a`` frame (its bytes) as the general path reads them, each a dict
    of its ``e``, ``i``, ``s`` and ``d``, but with the ``d`` of market data decoded straight
    into ``MarketData``. None when the frame is not an array of objects, or holds what the
    plain decoder refuses: the frame is then read whole by ``decode_array_frame``.
    """
    if not frame.isascii() and not is_utf8(frame):
        return None
    try:
        return [_message_of(message) for message in _decode_frame_messages(frame[1:])]
    except (ValueError, RecursionError):
        return None


def _message_of(raw: _FrameMessage) -> dict[str, Any]:
    if raw.e is msgspec.UNSET and raw.i is msgspec.UNSET:
        # Neither an event nor a response: it arrives raw, whole, from the general path.
        raise ValueError("neither an event nor a response")
    message: dict[str, Any] = {}
    if raw.e is not msgspec.UNSET:
        message["e"] = raw.e
    if raw.i is not msgspec.UNSET:
        message["i"] = raw.i
    if raw.s is not msgspec.UNSET:
        message["s"] = raw.s
    if raw.d is not _ABSENT:
        message["d"] = _market_data_or_json(raw.d) if raw.e == "md" else loads(raw.d)
    return message


def _market_data_or_json(data: msgspec.Raw) -> Any:
    """An ``md`` event's ``d`` typed, or as plain JSON when the models do not take it."""
    try:
        return _decode_market_data(data)
    except ValidationError:
        return loads(data)


class _SyncData(SyncSnapshot, frozen=True, kw_only=True):
    """A snapshot as an answer holds it, with what a refusal or a penalty holds instead."""

    error_text: Any = msgspec.field(default=None, name="errorText")
    p_ticket: Any = msgspec.field(default=None, name="p-ticket")


class _SyncAnswer(msgspec.Struct, frozen=True, gc=False):
    i: int
    s: int
    d: _SyncData


_decode_sync_answer = decoder(tuple[_SyncAnswer])
#: The head of a frame holding one answer, as the server writes it: ``a[{"s":200,"i":7,``.
_ANSWER_HEAD = re.compile(rb'a\[\{"s":\d+,"i":(\d+),')


def answer_request_id(frame: bytes) -> int | None:
    """The request id of a frame that starts as an answer does (None for any other frame)."""
    head = _ANSWER_HEAD.match(frame)
    return int(head[1]) if head is not None else None


def decode_sync_answer(frame: bytes) -> tuple[int, int, SyncSnapshot] | None:
    """``(request id, status, snapshot)`` of a frame that holds one ``user/syncrequest``
    answer, typed in one pass from the frame's bytes; None when it is anything else (a refusal,
    a penalty, a batch): the general path reads it then."""
    if not frame.isascii() and not is_utf8(frame):
        return None
    try:
        (answer,) = _decode_sync_answer(memoryview(frame)[1:])
    except (ValueError, RecursionError):
        return None
    data = answer.d
    if data.error_text is not None or data.p_ticket is not None:
        return None
    snapshot = SyncSnapshot(**{name: getattr(data, name) for name in _SNAPSHOT_FIELDS})
    return answer.i, answer.s, snapshot


_SNAPSHOT_FIELDS = SyncSnapshot.__struct_fields__


def sync_snapshot_of(endpoint: str, data: Any) -> Any:
    """A 2xx answer's data, typed where the endpoint has a model (``user/syncrequest``); the
    data as it came when it has none, or is not in the model's shape (a refusal's
    ``errorText``)."""
    if endpoint != SYNC_ENDPOINT or type(data) is not dict or "errorText" in data:
        return data
    try:
        return convert(data, SyncSnapshot)
    except ValidationError:
        return data


def _preview(value: object) -> str:
    return safe_preview(value, 80)


def not_an_object(message: Any, reason: str) -> UnknownEvent:
    """A message that is no server event or response at all, passed through."""
    return UnknownEvent("", None, message, f"{reason}: {_preview(message)}")


def _props(message: dict[str, Any], data: Any) -> TradovateEvent:
    if type(data) is not dict:
        return UnknownEvent("props", data, message, "a props event's d must be an object")
    entity_type, event_type = data.get("entityType"), data.get("eventType")
    if type(entity_type) is not str or type(event_type) is not str:
        return UnknownEvent("props", data, message, "entityType and eventType must be strings")
    kind = ENTITY_TYPES.get(entity_type)
    if kind is None:
        return UnknownEvent("props", data, message, f"no model for entityType {entity_type!r}")
    entity = data.get("entity")
    try:
        change = EntityEventType(event_type)
        if type(entity) is list:
            return EntityChanged(entity_type, change, [convert(item, kind) for item in entity])
        return EntityChanged(entity_type, change, None if entity is None else convert(entity, kind))
    except ValueError as exc:  # an unknown eventType, or msgspec's ValidationError
        return UnknownEvent("props", data, message, str(exc))


def _market_data(message: dict[str, Any], data: Any) -> TradovateEvent:
    if type(data) is MarketData:
        return data
    try:
        return convert(data, MarketData)
    except ValidationError as exc:
        return UnknownEvent("md", data, message, str(exc))


def _chart(message: dict[str, Any], data: Any) -> TradovateEvent:
    charts = data.get("charts") if type(data) is dict else None
    if type(data) is not dict or not (charts is None or type(charts) is list):
        return UnknownEvent("chart", data, message, "a chart event's charts must be a list")
    try:
        return Chart([_chart_packet(packet) for packet in charts or ()])
    except ValueError as exc:  # msgspec's ValidationError, or a packet of no known kind
        return UnknownEvent("chart", data, message, str(exc))


def _chart_packet(packet: Any) -> ChartPacket:
    """A packet of a chart event, by what it holds: bars, ticks, or the end-of-history mark."""
    kind: type[ChartPacket]
    if type(packet) is not dict:
        raise ValueError(f"a chart packet must be an object: {_preview(packet)}")
    if "bars" in packet:
        kind = BarPacket
    elif "tks" in packet or "bp" in packet:
        kind = TickPacket
    elif "eoh" in packet:
        kind = EndOfHistory
    else:
        raise ValueError(f"a chart packet holds no bars, ticks or eoh: {_preview(packet)}")
    return convert(packet, kind)


def _clock(message: dict[str, Any], data: Any) -> TradovateEvent:
    # The clock's "d" is itself a JSON document inside a string.
    if isinstance(data, str):
        try:
            data = loads(data)
        except (ValueError, RecursionError) as exc:
            return UnknownEvent("clock", data, message, f"its d is not JSON: {exc}")
    if type(data) is not dict:
        return UnknownEvent("clock", data, message, "a clock event's d must be an object")
    timestamp, speed = data.get("t"), data.get("s")
    if type(speed) is float and math.isfinite(speed):
        speed = int(speed)
    if not isinstance(timestamp, str) or type(speed) is not int:
        return UnknownEvent("clock", data, message, "a clock needs a text t and a number s")
    return ReplayClock(timestamp, speed)


def _shutdown(message: dict[str, Any], data: Any) -> TradovateEvent:
    if type(data) is not dict:
        return UnknownEvent("shutdown", data, message, "a shutdown event's d must be an object")
    reason = data.get("reason")
    return Shutdown(text_of(data.get("reasonCode")), reason if isinstance(reason, str) else None)


_EVENT_BUILDERS: dict[str, Callable[[dict[str, Any], Any], TradovateEvent]] = {
    "md": _market_data,
    "props": _props,
    "chart": _chart,
    "clock": _clock,
    "shutdown": _shutdown,
}


def server_event(message: dict[str, Any], kind: Any) -> TradovateEvent:
    """The event of a server message ``{"e": kind, "d": data}``."""
    data = message.get("d")
    if type(kind) is not str:
        return UnknownEvent("", data, message, f"an event kind must be a string: {_preview(kind)}")
    builder = _EVENT_BUILDERS.get(kind)
    return builder(message, data) if builder is not None else UnknownEvent(kind, data, message)
