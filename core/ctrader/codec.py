"""The cTrader Open API JSON envelope: ``{"clientMsgId", "payloadType", "payload"}``.

Every message decodes in one pass into its generated Struct (``decode_typed``, a union of one
envelope per payload type, tagged by ``payloadType``). A message that path does not take goes
through the general path below, which decodes the JSON, reads the envelope by hand and types
the payload if its model takes it (``typed_envelope``), or says why not.

Decoding is tolerant where the server is known (or suspected) to vary: ``payload`` may be
missing (``{"payloadType":51}``), ``clientMsgId`` may be missing or a number, and
``payloadType`` may arrive as a numeric string. Inside ``payload``, 64-bit integers may come as
numeric strings and enum values by name. An unknown ``payloadType`` is not an error: it passes
through with its payload as sent.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple, Union

import msgspec

from .._guards import is_utf8
from ..errors import RemoteProtocolError
from ..jsonlib import ValidationError, decoder, dumps, loads
from ..redaction import SECRET_FIELDS, redact
from .messages import typed_payload, wire_payload
from .models import MESSAGE_TYPES, OpenApiMessage

__all__ = [
    "SECRET_FIELDS",
    "Envelope",
    "EnvelopeError",
    "as_int",
    "as_ints",
    "decode_envelope",
    "decode_typed",
    "encode_envelope",
    "envelope_from",
    "invalid_json",
    "parse_message",
    "redact",
    "typed_envelope",
    "typed_envelope_of",
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


def _envelope_class(payload_type: int, kind: type[OpenApiMessage]) -> type[msgspec.Struct]:
    """The envelope that carries ``kind``, tagged by its payload type.

    A payload may be left out when its model has no required field (``{"payloadType":51}``);
    otherwise leaving it out fails here, and the general path says which field is missing.
    """
    optional = not any(field.required for field in msgspec.structs.fields(kind))
    payload: Any = (
        ("payload", kind, msgspec.field(default_factory=kind))
        if optional
        else (
            "payload",
            kind,
        )
    )
    client_msg_id = ("client_msg_id", str | None, msgspec.field(default=None, name="clientMsgId"))
    return msgspec.defstruct(
        f"{kind.__name__}Envelope",
        [payload, client_msg_id],
        tag_field="payloadType",
        tag=payload_type,
        frozen=True,
        gc=False,
        module=__name__,
    )


_ENVELOPES = tuple(_envelope_class(t, kind) for t, kind in MESSAGE_TYPES.items())
_decode_typed: Callable[[bytes], Any] = decoder(Union[_ENVELOPES], numeric_strings=True)  # type: ignore[arg-type]  # noqa: UP007


def decode_typed(data: bytes) -> Any:
    """One message typed straight from its bytes in one pass, or None.

    A message without a ``clientMsgId`` is its generated Struct alone (a ``SpotEvent`` is the
    event to hand out as it is); one with a ``clientMsgId`` is its envelope, whose ``payload``
    is that Struct (its class's ``PAYLOAD_TYPE`` says which) and ``client_msg_id`` the id.
    None for a payload type without a model, a payload the model does not take (as written:
    enum names included), an envelope in a shape this path does not read (a numeric
    ``clientMsgId`` or ``payloadType``, a ``null`` payload), bytes that are not UTF-8 or are
    not JSON: the general path (``parse_message``, ``envelope_from``, ``typed_envelope``) then
    reads the message and says what was wrong, if anything.
    """
    if not data.isascii() and not is_utf8(data):
        return None
    try:
        envelope = _decode_typed(data)
    except (ValueError, RecursionError):
        return None
    return envelope.payload if envelope.client_msg_id is None else envelope


def typed_envelope(envelope: Envelope) -> tuple[Envelope, str | None]:
    """An envelope of the general path with its payload typed where its model takes it.

    Returns the envelope with a ``WirePayload``, or as it was with the reason it could not be
    typed: a payload type without a model, or the model's refusal.
    """
    payload_type = envelope.payload_type
    if payload_type not in MESSAGE_TYPES:
        return envelope, f"payload type {payload_type} is not one this version knows"
    try:
        message = typed_payload(payload_type, envelope.payload)
    except ValidationError as exc:
        return envelope, str(exc)
    payload = wire_payload(envelope.payload, message)
    return Envelope(payload_type, payload, envelope.client_msg_id), None


def typed_envelope_of(message: OpenApiMessage, client_msg_id: str | None, data: bytes) -> Envelope:
    """The envelope of a message ``decode_typed`` took, ``data`` being what it decoded from.

    Its payload is also read as sent, a second reading that only messages other than spots
    and depth pay for: fields a newer server sends beyond this version's model stay there.
    """
    payload = loads(data).get("payload")
    return Envelope(message.PAYLOAD_TYPE, wire_payload(payload or {}, message), client_msg_id)


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
