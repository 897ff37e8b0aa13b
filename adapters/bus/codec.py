"""An event as the bytes of a bus message, and those bytes back as the same typed Struct.

The payload is the event's msgspec JSON: its fields under their wire names (a quote's
``contractId``, a spot's ``symbolId``), as ``brokerwire stream`` prints them, without the
``type`` the command adds (the subject names the kind). Market data is encoded straight from the
Struct; any other event goes through the credential redaction first, since a server's payload may
carry a token (``accessToken`` and the like read ``<redacted>``). An exception an event holds
(``Disconnected.error``) travels as its message and comes back as the same exception class.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from brokerwire.core.ctrader import DepthEvent, SpotEvent
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.redaction import redact
from brokerwire.core.tradovate import Chart, EntityChanged, MarketData
from brokerwire.core.tradovate.market import BarPacket, ChartPacket, EndOfHistory, TickPacket
from brokerwire.core.tradovate.models import ENTITY_TYPES

from ..events import Disconnected, Reconnected, ReconnectFailed
from .kinds import KINDS

__all__ = ["decode", "encode"]

#: Events that hold no credential: encoded from the Struct as it is.
_PLAIN = (MarketData, Chart, SpotEvent, DepthEvent, Disconnected, Reconnected, ReconnectFailed)


def _enc_hook(value: Any) -> Any:
    if isinstance(value, BaseException):
        return str(value)
    raise NotImplementedError(f"{type(value).__name__} cannot go on the bus")


def _dec_hook(kind: type, value: Any) -> Any:
    if isinstance(kind, type) and issubclass(kind, BaseException) and isinstance(value, str):
        return kind(value)
    raise NotImplementedError(f"{kind!r} cannot come from the bus")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_raw = msgspec.json.Decoder()


def encode(event: Any) -> bytes:
    """The payload of ``event``; credentials in what it carries are redacted. Raises
    ``LocalProtocolError`` for an event that has no JSON form (a string with a lone surrogate,
    nesting too deep to walk)."""
    try:
        if isinstance(event, _PLAIN):
            return _encoder.encode(event)
        return _encoder.encode(redact(msgspec.to_builtins(event, enc_hook=_enc_hook)))
    except (UnicodeEncodeError, RecursionError, NotImplementedError, TypeError) as exc:
        raise LocalProtocolError(f"{type(event).__name__} cannot go on the bus: {exc}") from None


# -- decoding ------------------------------------------------------------------------------------


def _chart_packet(packet: Any) -> ChartPacket:
    kind: type[ChartPacket]
    if isinstance(packet, dict) and "bars" in packet:
        kind = BarPacket
    elif isinstance(packet, dict) and ("tks" in packet or "bp" in packet):
        kind = TickPacket
    else:
        kind = EndOfHistory
    return msgspec.convert(packet, kind)


def _chart(data: bytes) -> Chart:
    """Chart packets are an untagged union: each is typed by what it holds, as the core does."""
    document = _raw.decode(data)
    return Chart([_chart_packet(packet) for packet in document["charts"]])


def _entity_changed(data: bytes) -> EntityChanged:
    """The entity is typed by its ``entity_type``, as the core types a ``props`` event."""
    document = _raw.decode(data)
    entity_type = document["entity_type"]
    kind = ENTITY_TYPES[entity_type]
    entity = document["entity"]
    if isinstance(entity, list):
        typed: Any = [msgspec.convert(item, kind) for item in entity]
    else:
        typed = None if entity is None else msgspec.convert(entity, kind)
    return EntityChanged(entity_type, document["event_type"], typed)


_SPECIAL: dict[type, Callable[[bytes], Any]] = {Chart: _chart, EntityChanged: _entity_changed}
_decoders: dict[type, Callable[[bytes], Any]] = {}


def _decoder(kind: type[msgspec.Struct]) -> Callable[[bytes], Any]:
    found = _decoders.get(kind)
    if found is None:
        found = _SPECIAL.get(kind) or msgspec.json.Decoder(kind, dec_hook=_dec_hook).decode
        _decoders[kind] = found
    return found


def decode(broker: str, kind: str, data: bytes) -> Any:
    """The event of ``kind`` (a class name) from ``broker`` that ``data`` holds, as its typed
    Struct; a kind this version does not know comes back as decoded JSON (dicts and lists).
    Raises ``ValueError`` for a payload that is not that kind's JSON."""
    known = KINDS.get(broker, {}).get(kind)
    try:
        return _raw.decode(data) if known is None else _decoder(known)(data)
    except (msgspec.DecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"a {kind} payload that does not fit: {exc}") from None
