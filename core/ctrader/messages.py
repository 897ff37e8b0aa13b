"""cTrader messages typed both ways: a payload as its generated Struct, a Struct as a payload.

The connection sends payloads (dicts by wire name) and hands most answers out as decoded JSON;
these two functions are where the generated models of ``models.py`` meet them. A message to send
is checked against its model before anything goes out, since a Struct built by hand is not
validated by msgspec (a string given for ``volume`` would go to the server as a string).
"""

from __future__ import annotations

from typing import Any

from ..errors import LocalProtocolError
from ..jsonlib import checked_builtins, convert
from .models import MESSAGE_TYPES, OpenApiMessage

__all__ = ["payload_of", "typed_payload"]


def typed_payload(payload_type: int, payload: dict[str, Any]) -> Any:
    """The payload as its generated Struct, or None for a payload type without one.

    Numbers sent as numeric strings read as numbers. Raises ``ValidationError`` (a
    ``ValueError``) when the payload does not fit its model.
    """
    kind = MESSAGE_TYPES.get(payload_type)
    return None if kind is None else convert(payload, kind, numeric_strings=True)


def payload_of(message: OpenApiMessage) -> tuple[int, dict[str, Any]]:
    """The payload type and payload (by wire name, absent fields left out) of a message to send.

    Raises ``LocalProtocolError`` when a field holds a value of the wrong type, or the message
    is not one that travels in an envelope.
    """
    payload_type = getattr(type(message), "PAYLOAD_TYPE", None)
    if not isinstance(message, OpenApiMessage) or payload_type is None:
        raise LocalProtocolError(f"{type(message).__name__} is not a cTrader Open API message")
    payload: dict[str, Any] = checked_builtins(message)
    return payload_type, payload
