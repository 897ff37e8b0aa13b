"""Typed request bodies checked before they are sent, and answers read into their Structs.

The connection sends bodies as mappings and hands answers out as decoded JSON; these two
functions are where the generated request models of ``requests.py`` meet them. A body Struct is
checked against its model before anything goes out, since a Struct built by hand is not
validated by msgspec (a string given for ``orderQty`` would reach the server as a string), and
against the endpoint: ``order/placeorder`` takes a ``PlaceOrder`` and nothing else.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ..errors import LocalProtocolError
from ..jsonlib import ValidationError, checked_builtins, convert
from .requests import ANSWER_TYPES, REQUEST_TYPES

__all__ = ["body_of", "typed_answer"]


def _key(endpoint: str) -> str:
    """Endpoints are case-blind, and a leading slash is dropped as the request document does."""
    return endpoint.lstrip("/").lower()


def body_of(endpoint: str, body: msgspec.Struct) -> dict[str, Any]:
    """The body to send (by wire name, absent fields left out) for a typed request.

    Raises ``LocalProtocolError`` when ``endpoint`` takes another request type, or a field holds
    a value of the wrong type.
    """
    kind = type(body)
    expected = REQUEST_TYPES.get(_key(endpoint))
    if expected is not None and kind is not expected:
        raise LocalProtocolError(f"{endpoint} takes {expected.__name__}, not {kind.__name__}")
    wire = checked_builtins(body)
    if not isinstance(wire, dict):
        raise LocalProtocolError(f"{kind.__name__} is not a request body (it encodes as no object)")
    return wire


def typed_answer(endpoint: str, data: Any) -> Any:
    """The answer to ``endpoint`` as its Struct (``PlaceOrderResult``, ``SimpleResponse``...).

    An endpoint without a model, or an answer its model does not take (a failure reason newer
    than the specification), gives the answer as decoded: a typed request never loses its
    answer to a stricter model.
    """
    kind = ANSWER_TYPES.get(_key(endpoint))
    if kind is None:
        return data
    try:
        return convert(data, kind)
    except ValidationError:
        return data
