"""Which Struct each kind of event on the bus is: the class name in a subject, back to its type.

A subject names an event's kind by its class name (``MarketData``, ``SpotEvent``); a subscriber
needs the class again to decode the payload into the same typed Struct. The names are those the
events modules export, per broker (both brokers have a ``Response``, an ``ErrorResponse`` ...),
with the clients' own events (``Disconnected``, ``TokenRenewed`` ...) in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType

import msgspec

from brokerwire.core.ctrader import events as ctrader_events
from brokerwire.core.tradovate import events as tradovate_events

from .. import events as link_events
from .. import token_events

__all__ = ["BROKERS", "KINDS", "kind_of"]

#: The brokers whose events go on the bus, as they are named in subjects.
BROKERS = ("tradovate", "ctrader")


def _structs(*modules: ModuleType) -> dict[str, type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    for module in modules:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, msgspec.Struct):
                found[value.__name__] = value
    return found


#: Broker -> kind name -> the Struct type of that kind.
KINDS: Mapping[str, Mapping[str, type[msgspec.Struct]]] = MappingProxyType(
    {
        "tradovate": MappingProxyType(_structs(tradovate_events, link_events, token_events)),
        "ctrader": MappingProxyType(_structs(ctrader_events, link_events, token_events)),
    }
)


def kind_of(event: object) -> str:
    """The kind of ``event`` on the bus: its class name."""
    return type(event).__name__
