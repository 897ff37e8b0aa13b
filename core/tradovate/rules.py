"""Tradovate's rules about requests and answers that a client applies above the connection.

Which endpoints place, change or cancel orders (a client never sends those twice and reports
them when a lost link leaves their outcome open), how a 2xx answer that still failed reads
(``errorText`` for market data and account requests, ``failureReason`` for order commands), and
``authorize``, the one request whose body is the access token. Pure functions of the values
given: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = [
    "AUTHORIZE",
    "ORDER_ENDPOINTS",
    "Refusal",
    "error_text_refusal",
    "is_authorize",
    "order_refusal",
    "places_orders",
]

#: The endpoint that authorizes a socket; its body is the access token (never logged).
AUTHORIZE = "authorize"

#: Endpoints (lower case) that place, change or cancel orders.
ORDER_ENDPOINTS: frozenset[str] = frozenset(
    {
        "order/placeorder",
        "order/modifyorder",
        "order/cancelorder",
        "order/placeoco",
        "order/placeoso",
        "order/liquidateposition",
        "orderstrategy/startorderstrategy",
        "orderstrategy/modifyorderstrategy",
        "orderstrategy/interruptorderstrategy",
    }
)


class Refusal(NamedTuple):
    """A 2xx answer that still refused: the broker's words and its code, when it gave one."""

    message: str
    code: str | None


def is_authorize(endpoint: str) -> bool:
    """Whether ``endpoint`` is ``authorize`` (endpoints are case-blind)."""
    return endpoint.lower() == AUTHORIZE


def places_orders(endpoint: str) -> bool:
    """Whether a request to ``endpoint`` places, changes or cancels an order."""
    return endpoint.lower() in ORDER_ENDPOINTS


def error_text_refusal(data: Any) -> Refusal | None:
    """An answer's ``errorText`` (with its ``errorCode``), as ``md/subscribeQuote`` gives for
    an unknown symbol; None when the answer holds none."""
    if isinstance(data, Mapping) and data.get("errorText"):
        code = data.get("errorCode")
        return Refusal(str(data["errorText"]), str(code) if code is not None else None)
    return None


def order_refusal(data: Any) -> Refusal | None:
    """An order command's ``failureReason`` other than ``Success`` (with its
    ``failureText``); None when the command went through."""
    if isinstance(data, Mapping):
        reason = data.get("failureReason")
        if reason is not None and reason != "Success":
            return Refusal(str(data.get("failureText") or reason), str(reason))
    return None
