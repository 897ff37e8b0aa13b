"""Which Struct each kind of event on the bus is: the class name in a subject, back to its type.

A subject names an event's kind by its class name (``MarketData``, ``SpotEvent``); a subscriber
needs the class again to decode the payload into the same typed Struct. The names are those the
events modules export, per broker (both brokers have a ``Response``, an ``ErrorResponse`` ...),
with the clients' own events (``Disconnected``, ``TokenRenewed``, ``AccountSynced`` ...) in both.
The changes a client tracking its account's state emits are each broker's own: both have an
``OrderChanged``, a ``PositionChanged`` and a ``BalanceChanged``, of different shapes, so they
are found by broker like the rest. A name that two of one broker's modules would give to
different Structs is refused when this module loads: a subscriber could not tell them apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType

import msgspec

from brokerwire.core.account import Change
from brokerwire.core.ctrader import account as ctrader_account
from brokerwire.core.ctrader import events as ctrader_events
from brokerwire.core.tradovate import account as tradovate_account
from brokerwire.core.tradovate import events as tradovate_events

from .. import events as link_events
from .. import token_events

__all__ = ["BROKERS", "KINDS", "kind_of"]

#: The brokers whose events go on the bus, as they are named in subjects.
BROKERS = ("tradovate", "ctrader")


def _structs(
    modules: tuple[ModuleType, ...], base: type[msgspec.Struct] = msgspec.Struct
) -> dict[str, type[msgspec.Struct]]:
    """The Structs the modules export that are ``base``, by class name."""
    found: dict[str, type[msgspec.Struct]] = {}
    for module in modules:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, base):
                found[value.__name__] = value
    return found


def _kinds(
    events: tuple[ModuleType, ...], account: ModuleType
) -> Mapping[str, type[msgspec.Struct]]:
    """One broker's kinds: its events, the clients' own, and its account-state changes (not
    its snapshots, which a client returns rather than emits)."""
    kinds = _structs(events)
    for name, kind in _structs((account,), Change).items():
        if kinds.setdefault(name, kind) is not kind:
            raise RuntimeError(f"two kinds named {name} for one broker")
    return MappingProxyType(kinds)


#: Broker -> kind name -> the Struct type of that kind.
KINDS: Mapping[str, Mapping[str, type[msgspec.Struct]]] = MappingProxyType(
    {
        "tradovate": _kinds((tradovate_events, link_events, token_events), tradovate_account),
        "ctrader": _kinds((ctrader_events, link_events, token_events), ctrader_account),
    }
)


def kind_of(event: object) -> str:
    """The kind of ``event`` on the bus: its class name."""
    return type(event).__name__
