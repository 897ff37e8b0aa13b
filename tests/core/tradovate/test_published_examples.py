"""The examples Tradovate publishes for each kind of server message decode to typed events."""

from __future__ import annotations

from brokerwire.core.tradovate import (
    Chart,
    EntityChanged,
    EntityEventType,
    MarketData,
    ReplayClock,
    Response,
    Shutdown,
    UnmatchedResponse,
)
from brokerwire.core.tradovate.market import (
    Bar,
    BarPacket,
    Dom,
    EndOfHistory,
    Histogram,
    Quote,
    QuoteEntry,
    TickPacket,
    TradeDate,
)
from brokerwire.core.tradovate.models import Action, Order, OrdStatus
from tests.core.tradovate.helpers import frames, open_client

PROPS = (
    '{"e":"props","d":{"entityType":"order","eventType":"Created","entity":{"id":210518,'
    '"accountId":25,"contractId":560901,"timestamp":"2016-11-04T00:02:36.626Z",'
    '"action":"Sell","ordStatus":"PendingNew","admin":false}}}'
)
QUOTES = (
    '{"e":"md","d":{"quotes":[{"timestamp":"2017-04-13T04:59:06.588Z","contractId":123456,'
    '"entries":{"Bid":{"price":18405,"size":7},"TotalTradeVolume":{"price":18405,"size":7},'
    '"Offer":{"price":18410,"size":12},"LowPrice":{"price":18405,"size":7},'
    '"Trade":{"price":18405,"size":2},"OpenInterest":{"price":18405,"size":7},'
    '"OpeningPrice":{"price":18405,"size":7},"HighPrice":{"price":18405,"size":7},'
    '"SettlementPrice":{"price":18405,"size":7},"EmptyBook":{"price":18405,"size":7}}}]}}'
)
DOMS = (
    '{"e":"md","d":{"doms":[{"contractId":123456,"timestamp":"2017-04-13T11:33:57.488Z",'
    '"bids":[{"price":2335.25,"size":33},{"price":2333,"size":758}],'
    '"offers":[{"price":2335.5,"size":255},{"price":2337.75,"size":466}]}]}}'
)
HISTOGRAMS = (
    '{"e":"md","d":{"histograms":[{"contractId":123456,"timestamp":"2017-04-13T11:33:57.412Z",'
    '"tradeDate":{"year":2017,"month":4,"day":13},"base":2338.75,'
    '"items":{"-14":5906,"2":1234},"refresh":false}]}}'
)
CHART = (
    '{"e":"chart","d":{"charts":[{"id":9,"td":20170413,"bars":[{"timestamp":'
    '"2017-04-13T11:00:00.000Z","open":2334.25,"high":2334.5,"low":2333,"close":2333.75,'
    '"upVolume":4712,"downVolume":201,"upTicks":1333,"downTicks":82,"bidVolume":2857,'
    '"offerVolume":2056}]}]}}'
)
TICKS = (
    '{"e":"chart","d":{"charts":[{"id":16335,"s":"db","td":20190718,"bp":11917,'
    '"bt":1563421179735,"ts":0.25,"tks":[{"t":0,"p":0,"s":3,"b":-1,"a":0,"bs":122,"as":28,'
    '"id":11768401}]},{"id":16335,"eoh":true}]}}'
)
CLOCK = '{"e":"clock","d":"{\\"t\\":\\"2019-08-26T16:43:08.599Z\\",\\"s\\":20}"}'
SHUTDOWN = '{"e":"shutdown","d":{"reasonCode":"Maintenance","reason":"back at 6"}}'


def decoded(*messages: str) -> list[object]:
    conn = open_client()
    return conn.receive_data(frames("a[" + ",".join(messages) + "]"), 1.0)


def test_the_props_example() -> None:
    (event,) = decoded(PROPS)
    assert event == EntityChanged(
        "order",
        EntityEventType.CREATED,
        Order(
            id=210518,
            account_id=25,
            contract_id=560901,
            timestamp="2016-11-04T00:02:36.626Z",
            action=Action.SELL,
            ord_status=OrdStatus.PENDING_NEW,
            admin=False,
        ),
    )
    assert event.event_type == "Created"


def test_the_market_data_examples() -> None:
    quotes, doms, histograms = decoded(QUOTES, DOMS, HISTOGRAMS)
    assert isinstance(quotes, MarketData)
    (quote,) = quotes.quotes
    assert isinstance(quote, Quote)
    assert (quote.contract_id, quote.timestamp) == (123456, "2017-04-13T04:59:06.588Z")
    assert quote.entries.bid == QuoteEntry(18405, 7)
    assert quote.entries.offer == QuoteEntry(18410, 12)
    assert quote.entries.trade == QuoteEntry(18405, 2)
    assert quote.entries.empty_book == QuoteEntry(18405, 7)
    assert quote.total_volume == 7
    assert doms == MarketData(
        doms=[
            Dom(
                123456,
                "2017-04-13T11:33:57.488Z",
                bids=[QuoteEntry(2335.25, 33), QuoteEntry(2333, 758)],
                offers=[QuoteEntry(2335.5, 255), QuoteEntry(2337.75, 466)],
            )
        ]
    )
    assert histograms == MarketData(
        histograms=[
            Histogram(
                123456,
                "2017-04-13T11:33:57.412Z",
                trade_date=TradeDate(2017, 4, 13),
                base=2338.75,
                items={"-14": 5906, "2": 1234},
            )
        ]
    )


def test_the_chart_examples() -> None:
    bars, ticks = decoded(CHART, TICKS)
    assert bars == Chart(
        [
            BarPacket(
                9,
                [
                    Bar(
                        "2017-04-13T11:00:00.000Z",
                        2334.25,
                        2334.5,
                        2333,
                        2333.75,
                        up_volume=4712,
                        down_volume=201,
                        up_ticks=1333,
                        down_ticks=82,
                        bid_volume=2857,
                        offer_volume=2056,
                    )
                ],
                td=20170413,
            )
        ]
    )
    assert isinstance(ticks, Chart)
    packet, end = ticks.charts
    assert isinstance(packet, TickPacket)
    assert end == EndOfHistory(16335)
    assert ticks.end_of_history == [16335]
    (tick,) = packet.ticks()
    assert (tick.time, tick.price, tick.size) == (1563421179735, 11917 * 0.25, 3)
    assert (tick.bid, tick.ask, tick.bid_size, tick.ask_size) == (
        11916 * 0.25,
        11917 * 0.25,
        122,
        28,
    )


def test_the_clock_and_shutdown_examples() -> None:
    assert decoded(CLOCK, SHUTDOWN) == [
        ReplayClock("2019-08-26T16:43:08.599Z", 20),
        Shutdown("Maintenance", "back at 6"),
    ]


def test_the_response_examples_and_a_twice_encoded_error() -> None:
    conn = open_client()
    request = conn.request("contract/find", {"name": "CLZ6"})
    answer = f'{{"s":200,"i":{request},"d":{{"id":65543,"name":"CLZ6","contractMaturityId":6727}}}}'
    stray = '{"s":401,"i":999,"d":"\\"Access is denied\\""}'
    found, unmatched = conn.receive_data(frames(f"a[{answer},{stray}]"), 1.0)
    assert found == Response(
        request, 200, {"id": 65543, "name": "CLZ6", "contractMaturityId": 6727}, "contract/find"
    )
    assert unmatched == UnmatchedResponse(999, 401, "Access is denied")
