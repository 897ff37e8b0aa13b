"""Real events of every shape the bus carries, built as the clients build them."""

from __future__ import annotations

from typing import Any

import msgspec

from brokerwire.adapters.events import Disconnected, Reconnected
from brokerwire.adapters.token_events import TokenRenewed
from brokerwire.core.ctrader import DepthEvent, ServerEvent, SpotEvent
from brokerwire.core.ctrader.models import DepthQuote
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.tradovate import Chart, EntityChanged, EntityEventType, MarketData
from brokerwire.core.tradovate.events import UnknownEvent
from brokerwire.core.tradovate.market import BarPacket, EndOfHistory, TickPacket
from brokerwire.core.tradovate.models import ENTITY_TYPES

SECRET = "s3cret-token-value"
_BAR = {"timestamp": "2026-12-07T10:42Z", "open": 1.5, "high": 2, "low": 1.25, "close": 1.75}


def tradovate_events() -> list[Any]:
    market = msgspec.convert(
        {
            "quotes": [
                {
                    "contractId": 3570918,
                    "timestamp": "2026-12-07T10:42:07.311Z",
                    "entries": {"Bid": {"price": 6000.25, "size": 12}, "Offer": {"price": 6000.5}},
                    "id": 1,
                }
            ],
            "doms": [
                {
                    "contractId": 3570918,
                    "timestamp": "2026-12-07T10:42:07.311Z",
                    "bids": [{"price": 6000.25, "size": 10}],
                    "offers": [{"price": 6000.5, "size": 11}],
                }
            ],
        },
        MarketData,
    )
    chart = Chart(
        [
            msgspec.convert(
                {"id": 9, "td": 20261207, "bars": [_BAR]},
                BarPacket,
            ),
            msgspec.convert(
                {"id": 9, "bp": 24000, "bt": 1765100000000, "ts": 0.25, "tks": [{"t": 1, "p": 2}]},
                TickPacket,
            ),
            EndOfHistory(9),
        ]
    )
    order = msgspec.convert(
        {
            "id": 5,
            "accountId": 7,
            "ordStatus": "Working",
            "action": "Buy",
            "admin": False,
            "timestamp": "2026-12-07T10:42:07Z",
        },
        ENTITY_TYPES["order"],
    )
    return [
        market,
        chart,
        EntityChanged("order", EntityEventType.CREATED, order),
        EntityChanged("order", EntityEventType.UPDATED, [order, order]),
        UnknownEvent("nextKind", {"a": [1, 2.5, None]}, {"e": "nextKind"}, None),
        Disconnected(1006, "gone", RemoteProtocolError("bad frame"), (), True),
        Reconnected(2, 1),
        TokenRenewed("tradovate", 5400.0, 1),
    ]


def ctrader_events() -> list[Any]:
    return [
        SpotEvent(ctid_trader_account_id=44, symbol_id=1, bid=108512, ask=108514, timestamp=7),
        DepthEvent(
            ctid_trader_account_id=44,
            symbol_id=1,
            new_quotes=[DepthQuote(id=3, size=100, bid=108510)],
            deleted_quotes=[2],
        ),
        ServerEvent(2126, {"ctidTraderAccountId": 44, "note": "x"}, None),
    ]


def secret_events() -> list[Any]:
    """Events from a server that carry a credential: it must never reach the bus."""
    return [
        ServerEvent(2174, {"accessToken": SECRET, "refreshToken": SECRET, "kept": 1}, "m1"),
    ]
