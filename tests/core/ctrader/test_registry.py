"""The cTrader subscription registry: remembered on success, forgotten on unsubscribe, replayed."""

from __future__ import annotations

import pytest

from brokerwire.core.ctrader import CTraderConnection, PayloadType
from brokerwire.core.errors import LocalProtocolError
from tests.core.ctrader.helpers import Sent, wire
from tests.core.ctrader.test_connection import ACCOUNT, authorized

SPOTS = PayloadType.PROTO_OA_SUBSCRIBE_SPOTS_REQ
TRENDBARS = PayloadType.PROTO_OA_SUBSCRIBE_LIVE_TRENDBAR_REQ
DEPTH = PayloadType.PROTO_OA_SUBSCRIBE_DEPTH_QUOTES_REQ


def answer(conn: CTraderConnection, request: str, payload_type: int) -> None:
    conn.receive_data(
        wire(
            "websocket",
            {
                "clientMsgId": request,
                "payloadType": payload_type,
                "payload": {"ctidTraderAccountId": ACCOUNT},
            },
        ),
        1.0,
    )


def subscribed() -> CTraderConnection:
    conn = authorized("websocket")
    answer(conn, conn.request(SPOTS, {"ctidTraderAccountId": ACCOUNT, "symbolId": [1, 2, 3]}), 2128)
    answer(
        conn,
        conn.request(
            SPOTS,
            {"ctidTraderAccountId": ACCOUNT, "symbolId": [9], "subscribeToSpotTimestamp": True},
        ),
        2128,
    )
    answer(
        conn,
        conn.request(TRENDBARS, {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "period": 1}),
        2165,
    )
    answer(
        conn,
        conn.request(TRENDBARS, {"ctidTraderAccountId": ACCOUNT, "symbolId": 2, "period": 9}),
        2165,
    )
    answer(conn, conn.request(DEPTH, {"ctidTraderAccountId": ACCOUNT, "symbolId": [1]}), 2157)
    return conn


def test_subscriptions_per_account() -> None:
    conn = subscribed()
    assert conn.registry.accounts == [ACCOUNT]
    assert conn.registry.spots(ACCOUNT) == [1, 2, 3, 9]
    assert conn.registry.trendbars(ACCOUNT) == [(1, 1), (2, 9)]
    assert conn.registry.depth(ACCOUNT) == [1]


def test_failed_subscriptions_are_not_remembered() -> None:
    conn = authorized("websocket")
    request = conn.request(SPOTS, {"ctidTraderAccountId": ACCOUNT, "symbolId": [77]})
    conn.receive_data(
        wire(
            "websocket",
            {
                "clientMsgId": request,
                "payloadType": 2142,
                "payload": {"errorCode": "SYMBOL_NOT_FOUND"},
            },
        ),
        1.0,
    )
    assert conn.registry.spots(ACCOUNT) == []


def test_unsubscribing_forgets_at_once() -> None:
    conn = subscribed()
    conn.request(
        PayloadType.PROTO_OA_UNSUBSCRIBE_SPOTS_REQ,
        {"ctidTraderAccountId": ACCOUNT, "symbolId": [2, 9]},
    )
    conn.request(
        PayloadType.PROTO_OA_UNSUBSCRIBE_LIVE_TRENDBAR_REQ,
        {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "period": 1},
    )
    conn.request(
        PayloadType.PROTO_OA_UNSUBSCRIBE_DEPTH_QUOTES_REQ,
        {"ctidTraderAccountId": ACCOUNT, "symbolId": [1]},
    )
    assert conn.registry.spots(ACCOUNT) == [1, 3]
    assert conn.registry.trendbars(ACCOUNT) == [(2, 9)]
    assert conn.registry.depth(ACCOUNT) == []


def test_replay_after_reconnect_spots_first() -> None:
    first = subscribed()
    first.receive_data(b"", 5.0)
    sent = Sent("websocket")
    second = authorized("websocket")
    second.registry = first.registry
    ids = second.replay_subscriptions(ACCOUNT)
    assert [(m["payloadType"], m["payload"]) for m in sent(second)] == [
        (2127, {"ctidTraderAccountId": ACCOUNT, "symbolId": [1, 2, 3]}),
        (2127, {"ctidTraderAccountId": ACCOUNT, "symbolId": [9], "subscribeToSpotTimestamp": True}),
        (2135, {"ctidTraderAccountId": ACCOUNT, "symbolId": 1, "period": 1}),
        (2135, {"ctidTraderAccountId": ACCOUNT, "symbolId": 2, "period": 9}),
        (2156, {"ctidTraderAccountId": ACCOUNT, "symbolId": [1]}),
    ]
    assert len(ids) == 5


def test_replay_needs_the_account_authorized() -> None:
    conn = CTraderConnection.tcp()
    with pytest.raises(LocalProtocolError, match="authorize account"):
        conn.replay_subscriptions(ACCOUNT)
