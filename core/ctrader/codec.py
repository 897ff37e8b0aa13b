"""The cTrader Open API JSON envelope: ``{"clientMsgId", "payloadType", "payload"}``.

Spot and depth events, the stream's bulk, decode in one pass into their generated Structs
(``decode_market_message``, a union tagged by ``payloadType``); every other message goes through
the general path below, which decodes the JSON and reads the envelope by hand.

Decoding is tolerant where the server is known (or suspected) to vary: ``payload`` may be
missing (``{"payloadType":51}``), ``clientMsgId`` may be missing or a number, and
``payloadType`` may arrive as a numeric string. Inside ``payload`` values are kept as sent; the
connection and the units helpers accept 64-bit integers and enums as numbers or numeric strings
alike. An unknown ``payloadType`` is not an error: it passes through.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import msgspec

from .._guards import is_utf8
from ..errors import RemoteProtocolError
from ..jsonlib import decoder, dumps, loads
from ..redaction import SECRET_FIELDS, redact
from .models import DepthEvent, SpotEvent

__all__ = [
    "SECRET_FIELDS",
    "Envelope",
    "EnvelopeError",
    "as_int",
    "as_ints",
    "decode_envelope",
    "decode_market_message",
    "encode_envelope",
    "envelope_from",
    "invalid_json",
    "parse_message",
    "redact",
]


class EnvelopeError(RemoteProtocolError):
    """A message that is not a cTrader envelope.

    A ``RemoteProtocolError``: the connection that finds it ends with it as the ``error`` of
    its ``Closed`` event. ``close_code`` is the WebSocket code that answers it (1002 unless
    said otherwise; 1007 for JSON that does not parse); over TCP none is sent and it is None.
    """

    def __init__(self, message: str, close_code: int = 1002) -> None:
        super().__init__(message, close_code)


class Envelope(NamedTuple):
    """One decoded message. ``payload`` is ``{}`` when the server sent none."""

    payload_type: int
    payload: dict[str, Any]
    client_msg_id: str | None

    def __repr__(self) -> str:
        return (
            f"Envelope(payload_type={self.payload_type!r}, payload={redact(self.payload)!r}, "
            f"client_msg_id={self.client_msg_id!r})"
        )


def as_int(value: Any) -> int | None:
    """An integer sent as a number or as a numeric string; None for anything else."""
    if type(value) is int:
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def as_ints(value: Any) -> tuple[int, ...]:
    """The integers of a repeated field, read as ``as_int`` reads one.

    Items that are not integers are left out. A lone value where a list belongs is read as a
    list of one, so that a malformed field loses no more than it must and never raises.
    """
    if type(value) is not list:
        value = [value]
    return tuple(i for i in map(as_int, value) if i is not None)


def _preview(data: str | bytes, limit: int = 120) -> str:
    # A character takes at most 4 bytes: that many bytes hold the first limit + 1 of them.
    text = data if isinstance(data, str) else data[: 4 * (limit + 1)].decode("utf-8", "replace")
    return repr(text[:limit] + ("..." if len(text) > limit else ""))


def decode_envelope(data: str | bytes) -> Envelope:
    """One message's envelope; raises ``EnvelopeError`` for anything that is not one."""
    return envelope_from(parse_message(data), data)


def parse_message(data: str | bytes) -> Any:
    """The JSON of one message (bytes as a transport delivers them: JSON is UTF-8)."""
    try:
        return loads(data)
    except (ValueError, RecursionError) as exc:
        raise invalid_json(exc, data) from None


def invalid_json(error: Exception, data: str | bytes) -> EnvelopeError:
    """The error for a message that is not JSON (close code 1007).

    Bytes that are not UTF-8 are not JSON either. Whether they break the transport's rule for
    text is the transport's to say: a connection asks it (``decode_text``) before it reports
    this error.
    """
    return EnvelopeError(f"invalid JSON ({error}): {_preview(data)}", 1007)


def envelope_from(message: Any, data: str | bytes) -> Envelope:
    """The envelope of a parsed message; ``data`` is what it was parsed from, for errors."""
    if type(message) is not dict:
        raise EnvelopeError(
            f"a message must be a JSON object, not {type(message).__name__}: {_preview(data)}"
        )
    payload_type = message.get("payloadType")
    if type(payload_type) is not int:
        payload_type = as_int(payload_type)
        if payload_type is None:
            raise EnvelopeError(f"missing or non-integer payloadType: {_preview(data)}")
    payload = message.get("payload")
    if payload is None:
        payload = {}
    elif type(payload) is not dict:
        raise EnvelopeError(
            f"payload must be a JSON object, not {type(payload).__name__}: {_preview(data)}"
        )
    client_msg_id = message.get("clientMsgId")
    if client_msg_id is not None and type(client_msg_id) is not str:
        if type(client_msg_id) is not int:
            raise EnvelopeError(f"clientMsgId must be a string: {_preview(data)}")
        client_msg_id = str(client_msg_id)
    return Envelope(payload_type, payload, client_msg_id)


class _SpotEnvelope(msgspec.Struct, frozen=True, gc=False, tag_field="payloadType", tag=2131):
    payload: SpotEvent
    client_msg_id: str | None = msgspec.field(default=None, name="clientMsgId")


class _DepthEnvelope(msgspec.Struct, frozen=True, gc=False, tag_field="payloadType", tag=2155):
    payload: DepthEvent
    client_msg_id: str | None = msgspec.field(default=None, name="clientMsgId")


_decode_market = decoder(_SpotEnvelope | _DepthEnvelope, numeric_strings=True)  # type: ignore[arg-type]


def decode_market_message(data: bytes) -> SpotEvent | DepthEvent | None:
    """A spot or depth event, typed straight from the message's bytes in one pass.

    The envelope's ``payloadType`` picks the model. None for any other message, one with a
    ``clientMsgId``, one the model does not take, or bytes that are not UTF-8: the general path
    (``parse_message``, ``envelope_from``) then reads it and says what was wrong.
    """
    if not data.isascii() and not is_utf8(data):
        return None
    try:
        envelope = _decode_market(data)
    except (ValueError, RecursionError):
        return None
    return envelope.payload if envelope.client_msg_id is None else None


def encode_envelope(
    payload_type: int, payload: Mapping[str, Any] | None = None, client_msg_id: str | None = None
) -> bytes:
    """One message as compact JSON; ``payload`` is left out when empty, as the server does."""
    message: dict[str, Any] = {}
    if client_msg_id is not None:
        message["clientMsgId"] = client_msg_id
    message["payloadType"] = int(payload_type)
    if payload:
        message["payload"] = payload
    return dumps(message)
