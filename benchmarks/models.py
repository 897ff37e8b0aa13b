"""Typed models of the quote and spot messages, for the ``msgspec-floor`` baseline.

They are what a user who wants typed objects would declare for msgspec by hand: the same
fields brokerwire's events carry, frozen, and ``gc=False`` since nothing in them can form a
cycle. Fields left out on the wire are left out of their JSON form too
(``omit_defaults``), so that a Struct and orjson's dict of one message can be compared.
Decoding a payload straight into them is the least a typed decoder can cost, which is
what the floor stands for; they are written here, apart from brokerwire's own models, so that
the floor does not move when brokerwire's models do.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "QUOTE_FRAME",
    "SPOT_EVENT",
    "Entries",
    "Entry",
    "MarketDataMessage",
    "Quote",
    "QuoteData",
    "SpotEvent",
    "SpotPayload",
    "Trendbar",
]


class Entry(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """One entry of a quote; which of the two a kind of entry carries varies."""

    price: float | None = None
    size: float | None = None


class Entries(msgspec.Struct, frozen=True, gc=False, omit_defaults=True, rename="pascal"):
    """The entries of a quote, each present only when it changed."""

    bid: Entry | None = None
    offer: Entry | None = None
    trade: Entry | None = None
    total_trade_volume: Entry | None = None
    low_price: Entry | None = None
    high_price: Entry | None = None
    opening_price: Entry | None = None
    settlement_price: Entry | None = None
    open_interest: Entry | None = None
    empty_book: Entry | None = None


class Quote(msgspec.Struct, frozen=True, gc=False, rename="camel"):
    timestamp: str
    contract_id: int
    entries: Entries


class QuoteData(msgspec.Struct, frozen=True, gc=False):
    quotes: list[Quote]


class MarketDataMessage(msgspec.Struct, frozen=True, gc=False):
    """``{"e": "md", "d": {"quotes": [...]}}``: one message of an ``a`` frame."""

    e: Literal["md"]
    d: QuoteData


class Trendbar(msgspec.Struct, frozen=True, gc=False, omit_defaults=True, rename="camel"):
    """A live trendbar of a spot event (prices as deltas from ``low``)."""

    period: str | None = None
    volume: int | None = None
    low: int | None = None
    delta_open: int | None = None
    delta_close: int | None = None
    delta_high: int | None = None
    utc_timestamp_in_minutes: int | None = None


class SpotPayload(msgspec.Struct, frozen=True, gc=False, omit_defaults=True, rename="camel"):
    ctid_trader_account_id: int
    symbol_id: int
    bid: int | None = None
    ask: int | None = None
    trendbar: list[Trendbar] = []
    timestamp: int | None = None


class SpotEvent(
    msgspec.Struct, frozen=True, gc=False, omit_defaults=True, tag_field="payloadType", tag=2131
):
    """``{"payloadType": 2131, "payload": {...}}``: the type checked as a tag, as a tagged
    union on ``payloadType`` would."""

    payload: SpotPayload
    client_msg_id: str | None = msgspec.field(default=None, name="clientMsgId")


#: decodes the payload of a Tradovate ``a`` frame of quote messages (the ``a`` cut off)
QUOTE_FRAME = msgspec.json.Decoder(list[MarketDataMessage])
#: decodes one cTrader spot event
SPOT_EVENT = msgspec.json.Decoder(SpotEvent)
