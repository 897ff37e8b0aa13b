"""cTrader messages typed both ways: a payload as its generated Struct, a Struct as a payload.

The connection decodes each envelope straight into its generated Struct (``codec``) and hands
its payload out as a ``WirePayload``: the payload as sent, a dict, holding the typed message
beside it. A payload that took the general path is typed here (``typed_payload``),
where enum values written by name (``"orderType": "MARKET"``, as a protobuf JSON encoder may
write them) become their numbers first: msgspec's ``IntEnum`` decoding takes numbers only, and
reading names only when a message is not all numbers leaves the one-pass decode untouched.
A message to send is checked against its model before anything goes out, since a Struct built
by hand is not validated by msgspec (a string given for ``volume`` would go out as a string).
"""

from __future__ import annotations

import enum
import types
import typing
from typing import Any

import msgspec

from ..errors import LocalProtocolError
from ..jsonlib import checked_builtins, convert
from .models import MESSAGE_TYPES, OpenApiMessage

__all__ = ["WirePayload", "enum_numbers", "payload_of", "typed_payload", "wire_payload"]


class WirePayload(dict[str, Any]):
    """A payload that decoded into its model: the payload as sent, and ``message`` typed.

    A dict of what was sent, fields this version's model does not know included (a newer
    server's), so that code reading payloads by wire name and events compared with plain dicts
    see no difference.
    """

    __slots__ = ("message",)
    message: OpenApiMessage


def wire_payload(payload: dict[str, Any], message: OpenApiMessage) -> WirePayload:
    """The payload as sent, carrying the typed message it decoded to."""
    wired = WirePayload(payload)
    wired.message = message
    return wired


def typed_payload(payload_type: int, payload: dict[str, Any]) -> Any:
    """The payload as its generated Struct, or None for a payload type without one.

    Numbers sent as numeric strings read as numbers, enum values sent by name as their
    members. Raises ``ValidationError`` (a ``ValueError``) when the payload does not fit its
    model, an unknown enum name included.
    """
    if type(payload) is WirePayload:
        return payload.message
    kind = MESSAGE_TYPES.get(payload_type)
    if kind is None:
        return None
    return convert(enum_numbers(payload, kind), kind, numeric_strings=True)


# -- enum values by name --------------------------------------------------------------------------

# Per Struct: its fields that hold an enum or a Struct, by wire name, and whether repeated.
_Plan = tuple[tuple[str, type, bool], ...]
_PLANS: dict[type, _Plan] = {}


def _target(annotation: Any) -> tuple[type | None, bool]:
    """The enum or Struct class a field annotation holds (None for neither), and if repeated."""
    repeated = typing.get_origin(annotation) is list
    if repeated:
        (annotation,) = typing.get_args(annotation)
    if isinstance(annotation, types.UnionType):  # X | None
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    is_target = isinstance(annotation, type) and issubclass(
        annotation, (enum.IntEnum, msgspec.Struct)
    )
    return (annotation if is_target else None), repeated


def _plan(kind: type) -> _Plan:
    plan = _PLANS.get(kind)
    if plan is None:
        fields = []
        for info in msgspec.structs.fields(kind):
            target, repeated = _target(info.type)
            if target is not None:
                fields.append((info.encode_name, target, repeated))
        plan = _PLANS[kind] = tuple(fields)
    return plan


def _value(value: Any, target: type) -> Any:
    """One value read by ``target``: an enum name becomes its number, a dict is walked."""
    if type(value) is str and issubclass(target, enum.IntEnum):
        member = target.__members__.get(value)
        return value if member is None else int(member)
    if type(value) is dict and issubclass(target, msgspec.Struct):
        return enum_numbers(value, target)
    return value


def _values(values: list[Any], target: type) -> list[Any]:
    """A repeated field read as ``_value`` reads one: the same list when nothing changed."""
    new = [_value(item, target) for item in values]
    return values if all(a is b for a, b in zip(new, values, strict=True)) else new


def enum_numbers(payload: Any, kind: type) -> Any:
    """``payload`` with every enum value given by name, at any depth, as its number.

    Names are the .proto value names, which are the members' names (``MARKET``,
    ``ORDER_FILLED``). Anything else is left as it is, for the model to accept or refuse; the
    payload is not changed in place.
    """
    if type(payload) is not dict:
        return payload
    changed: dict[str, Any] | None = None
    for wire_name, target, repeated in _plan(kind):
        value = payload.get(wire_name)
        if value is None:
            continue
        new = _values(value, target) if repeated and type(value) is list else _value(value, target)
        if new is not value:
            if changed is None:
                changed = dict(payload)
            changed[wire_name] = new
    return payload if changed is None else changed


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
