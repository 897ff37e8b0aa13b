"""The subscription registry: what is remembered, what is forgotten, what is replayed."""

from __future__ import annotations

import pytest

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tradovate import SubscriptionRegistry, TradovateConnection, TradovateState
from tests.core.tradovate.helpers import SentTexts, frames, open_client, reply

CHART_BODY = {
    "symbol": "ESZ6",
    "chartDescription": {
        "underlyingType": "Tick",
        "elementSize": 1,
        "elementSizeUnit": "UnderlyingUnits",
    },
    "timeRange": {"asMuchAsElements": 50},
}


def answer(
    conn: TradovateConnection, request_id: int, status: int = 200, data: object = None
) -> None:
    conn.receive_data(frames(f"a[{reply(request_id, status, data)}]"), 1.0)


def authorized(registry: SubscriptionRegistry | None = None) -> TradovateConnection:
    conn = open_client(registry=registry)
    answer(conn, conn.authorize("token"))
    assert conn.state is TradovateState.AUTHORIZED
    return conn


def test_subscriptions_are_remembered_once_they_succeed() -> None:
    conn = authorized()
    quote = conn.request("md/subscribeQuote", body={"symbol": "ESZ6"})
    assert conn.registry.live == []
    answer(conn, quote)
    dom = conn.request("md/subscribeDOM", body={"symbol": "NQZ6"})
    hist = conn.request("md/subscribeHistogram", body={"symbol": 123456})
    chart = conn.request("md/getChart", body=CHART_BODY)
    sync = conn.request("user/syncrequest", body={"users": [7]})
    answer(conn, dom)
    answer(conn, hist)
    answer(conn, chart, data={"historicalId": 32, "realtimeId": 31})
    answer(conn, sync, data={"users": []})
    replay = conn.registry.replay()
    assert replay == [
        ("md/subscribeQuote", None, {"symbol": "ESZ6"}),
        ("md/subscribeDOM", None, {"symbol": "NQZ6"}),
        ("md/subscribeHistogram", None, {"symbol": 123456}),
        ("md/getChart", None, CHART_BODY),
        ("user/syncrequest", None, {"users": [7]}),
    ]
    chart_entry = conn.registry.live[3]
    assert (chart_entry.realtime_id, chart_entry.historical_id) == (31, 32)


def test_failures_are_not_remembered() -> None:
    conn = authorized()
    answer(conn, conn.request("md/subscribeQuote", body={"symbol": "BAD"}), 404, "Unknown symbol")
    answer(
        conn,
        conn.request("md/subscribeQuote", body={"symbol": "NOPLAN"}),
        200,
        {"mode": "None", "errorCode": "NoServicePlan", "errorText": "No market data plan"},
    )
    answer(conn, conn.request("contract/find", query={"name": "ESZ6"}), 200, {})
    assert conn.registry.live == []


def test_unsubscribe_and_cancel_forget_as_soon_as_they_are_sent() -> None:
    conn = authorized()
    for symbol in ("ESZ6", "NQZ6"):
        answer(conn, conn.request("md/subscribeQuote", body={"symbol": symbol}))
    answer(conn, conn.request("md/subscribeDOM", body={"symbol": "ESZ6"}))
    answer(
        conn,
        conn.request("md/getChart", body=CHART_BODY),
        data={"historicalId": 32, "realtimeId": 31},
    )
    conn.request("md/unsubscribeQuote", body={"symbol": "ESZ6"})
    conn.request("md/cancelChart", body={"subscriptionId": 31})
    assert conn.registry.replay() == [
        ("md/subscribeQuote", None, {"symbol": "NQZ6"}),
        ("md/subscribeDOM", None, {"symbol": "ESZ6"}),
    ]


def test_cancel_by_historical_id_also_forgets_the_chart() -> None:
    conn = authorized()
    answer(
        conn,
        conn.request("md/getChart", body=CHART_BODY),
        data={"historicalId": 32, "realtimeId": 31},
    )
    conn.request("md/cancelchart", body={"subscriptionId": 32})
    assert conn.registry.live == []


def test_subscribing_twice_keeps_one_entry_in_its_first_place() -> None:
    conn = authorized()
    for symbol in ("ESZ6", "NQZ6", "ESZ6"):
        answer(conn, conn.request("md/subscribeQuote", body={"symbol": symbol}))
    assert [s.body for s in conn.registry.live] == [{"symbol": "ESZ6"}, {"symbol": "NQZ6"}]


def test_replay_after_a_reconnect_sends_exactly_the_live_subscriptions() -> None:
    first = authorized()
    answer(first, first.request("md/subscribeQuote", body={"symbol": "ESZ6"}))
    answer(first, first.request("md/subscribeQuote", body={"symbol": "CLZ6"}))
    answer(first, first.request("user/syncrequest", body={"users": [7]}))
    first.request("md/unsubscribeQuote", body={"symbol": "CLZ6"})
    first.receive_data(b"", 2.0)

    sent = SentTexts()
    second = authorized(registry=first.registry)
    sent(second)  # the authorize
    ids = second.replay_subscriptions()
    assert sent(second) == [
        f'md/subscribeQuote\n{ids[0]}\n\n{{"symbol":"ESZ6"}}',
        f'user/syncrequest\n{ids[1]}\n\n{{"users":[7]}}',
    ]
    for request_id in ids:
        answer(second, request_id)
    assert len(second.registry) == 2, "answers to replayed requests do not duplicate entries"


def test_replay_before_authorize_is_the_callers_mistake() -> None:
    with pytest.raises(LocalProtocolError, match="authorize"):
        open_client().replay_subscriptions()
