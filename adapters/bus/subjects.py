"""Subjects: ``brokerwire.<broker>.<account>.<kind>[.<symbol>]``.

A subject is what a consumer filters on (``brokerwire.ctrader.*.SpotEvent.>`` for every cTrader
spot), and what JetStream keeps in order: events of one subject are stored in the order they
were published. Each part is one token; a character NATS gives a meaning to (``.``, ``*``,
``>``, white space) is replaced by ``_``, so that no value from the network can change the
subject's shape.
"""

from __future__ import annotations

import re
from typing import Any

from brokerwire.core.account import Change
from brokerwire.core.ctrader import DepthEvent, SpotEvent
from brokerwire.core.tradovate import Chart, MarketData

from .kinds import kind_of

__all__ = ["PREFIX", "event_account", "event_symbol", "subject", "token"]

#: The first token of every subject brokerwire publishes.
PREFIX = "brokerwire"

_UNSAFE = re.compile(r"[^A-Za-z0-9_\-]")
#: The longest a token may grow (an account label is the caller's; a symbol id is short).
_TOKEN_LIMIT = 64


def token(value: object) -> str:
    """``value`` as one subject token: unsafe characters become ``_``, never empty."""
    text = _UNSAFE.sub("_", str(value))[:_TOKEN_LIMIT]
    return text or "_"


def event_account(event: Any) -> int | None:
    """The trading account an event names, where it names one (cTrader spots and depth, and the
    account-state changes of both brokers)."""
    account = getattr(event, "ctid_trader_account_id", None)
    if account is None and isinstance(event, Change):
        account = getattr(event, "account_id", None)
    return account if isinstance(account, int) else None


def event_symbol(event: Any) -> str | None:
    """The instrument of a market-data event: a cTrader symbol id, or the contract id of a
    Tradovate update whose entries all name one contract; None otherwise."""
    if isinstance(event, SpotEvent | DepthEvent):
        return str(event.symbol_id)
    if isinstance(event, MarketData):
        ids = {quote.contract_id for quote in event.quotes}
        ids.update(dom.contract_id for dom in event.doms)
        ids.update(histogram.contract_id for histogram in event.histograms)
        return str(ids.pop()) if len(ids) == 1 else None
    if isinstance(event, Chart):
        ids = {packet.id for packet in event.charts}
        return str(ids.pop()) if len(ids) == 1 else None
    return None


def subject(broker: str, account: str, event: Any) -> str:
    """The subject ``event`` is published on; ``account`` is used where the event names none."""
    named = event_account(event)
    parts = [PREFIX, token(broker), token(account if named is None else named), kind_of(event)]
    symbol = event_symbol(event)
    if symbol is not None:
        parts.append(token(symbol))
    return ".".join(parts)
