"""The order list a cTrader snapshot reads for lost orders, inside the engine, without a socket:
every page is read (``hasMore``), a part refused for now (a rate limit) is asked again once the
server's wait is over, and a snapshot that failed is taken again after a growing wait, instead
of leaving the account without a snapshot."""

from __future__ import annotations

from typing import Any, cast

import msgspec

from brokerwire.adapters.engine.ctrader_state import CTraderTracking
from brokerwire.adapters.events import AccountSynced
from brokerwire.core.ctrader import ErrorResponse, PayloadType, RequestTimedOut, Response
from brokerwire.core.ctrader.models import (
    OpenApiMessage,
    Order,
    OrderListReq,
    OrderListRes,
    OrderStatus,
    OrderType,
    ReconcileRes,
    TradeData,
    TraderRes,
    TradeSide,
)
from brokerwire.core.orders import OrderStatus as HandleStatus
from tests.core.ctrader.test_account import TRADER

ACCOUNT = 4001
P = PayloadType


class _Conn:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.authorized_accounts = frozenset({ACCOUNT})

    def request(self, kind: Any, payload: Any = None, **options: Any) -> str:
        self.sent.append(kind if isinstance(kind, OpenApiMessage) else (kind, payload))
        return f"r{len(self.sent)}"


class _Engine:
    """What the tracking asks of its engine."""

    def __init__(self) -> None:
        self.conn = _Conn()
        self.ready = True
        self.waiting: dict[str, Any] = {}
        self.retries: list[Any] = []
        self.on_link: dict[Any, tuple[float, Any]] = {}
        self.out: list[Any] = []

    def wait_internal(self, request_id: str, on_outcome: Any) -> None:
        self.waiting[request_id] = on_outcome

    def emit(self, event: Any) -> None:
        self.out.append(event)

    def retry_later(self, key: Any, told: Any, now: float, action: Any, what: str) -> None:
        self.retries.append((told, action))

    def retry_on_link(self, key: Any, wait: float, now: float, action: Any, what: str) -> None:
        self.on_link[key] = (wait, action)

    def send(self, call: Any, now: float) -> str:
        return self.conn.request(call.payload_type, call.payload)

    def remember_order(self, request_id: Any, unknown: Any) -> None:
        pass

    def answer(self, request_id: str, message: msgspec.Struct, request_type: int) -> None:
        payload = msgspec.to_builtins(message)
        payload_type = type(message).PAYLOAD_TYPE  # type: ignore[attr-defined]
        response = Response(request_id, payload_type, payload, request_type)
        self.waiting.pop(request_id)(response, 0.0)


class _Call:
    payload_type = P.PROTO_OA_NEW_ORDER_REQ
    name = "ProtoOANewOrderReq"
    sent_body = None

    def __init__(self, client_order_id: str) -> None:
        self.payload = {
            "ctidTraderAccountId": ACCOUNT,
            "symbolId": 1,
            "orderType": 1,
            "tradeSide": 1,
            "volume": 100_000,
            "clientOrderId": client_order_id,
        }


class _Sink:
    def __init__(self) -> None:
        self.views: list[Any] = []

    def _update(self, view: Any) -> None:
        self.views.append(view)

    def _end(self) -> None:
        pass


def _order(order_id: int, client_order_id: str, at: int) -> Order:
    return Order(
        order_id=order_id,
        trade_data=TradeData(
            symbol_id=1, volume=100_000, trade_side=TradeSide.BUY, open_timestamp=at
        ),
        order_type=OrderType.MARKET,
        order_status=OrderStatus.ORDER_STATUS_FILLED,
        executed_volume=100_000,
        execution_price=1.1,
        client_order_id=client_order_id,
    )


def _sent_since(engine: _Engine, start: int) -> list[tuple[str, Any]]:
    return [(f"r{n}", sent) for n, sent in enumerate(engine.conn.sent, start=1)][start:]


def _snapshot_answers(engine: _Engine, start: int) -> list[tuple[str, Any]]:
    """Answer the trader and reconcile requests sent since ``start``; the rest, unanswered."""
    trader = msgspec.convert(msgspec.json.decode(TRADER), TraderRes, strict=False)
    left = []
    for request_id, sent in _sent_since(engine, start):
        if sent == (P.PROTO_OA_TRADER_REQ, {"ctidTraderAccountId": ACCOUNT}):
            engine.answer(request_id, trader, P.PROTO_OA_TRADER_REQ)
        elif sent == (P.PROTO_OA_RECONCILE_REQ, {"ctidTraderAccountId": ACCOUNT}):
            engine.answer(
                request_id, ReconcileRes(ctid_trader_account_id=ACCOUNT), P.PROTO_OA_RECONCILE_REQ
            )
        else:
            left.append((request_id, sent))
    return left


def test_a_lost_order_on_a_later_page_is_found_after_a_throttled_page_is_asked_again() -> None:
    engine = _Engine()
    tracking = CTraderTracking(cast(Any, engine))
    tracking.take_snapshot(ACCOUNT, 0.0)
    assert _snapshot_answers(engine, 0) == []
    sink = _Sink()
    tracking.place(1, cast(Any, _Call("mine")), sink, 0.0)
    tracking.lost()  # the link went down before the answer
    assert [view.status for view in sink.views] == [HandleStatus.UNKNOWN]
    start = len(engine.conn.sent)
    tracking.take_snapshot(ACCOUNT, 1.0)
    ((first_id, first),) = _snapshot_answers(engine, start)
    assert isinstance(first, OrderListReq)
    refusal = ErrorResponse(
        first_id,
        P.PROTO_OA_ERROR_RES,
        "BLOCKED_PAYLOAD_TYPE",
        "",
        1.0,
        P.PROTO_OA_ORDER_LIST_REQ,
        {},
    )
    engine.waiting.pop(first_id)(refusal, 1.0)
    ((told, again),) = engine.retries
    assert told == 1.0
    again(2.0)
    ((page_id, page),) = _sent_since(engine, start + 3)
    assert page == first, "the same page, asked again"
    older = _order(7, "someone-else", first.from_timestamp + 1)
    engine.answer(
        page_id,
        OrderListRes(ctid_trader_account_id=ACCOUNT, order=[older], has_more=True),
        P.PROTO_OA_ORDER_LIST_REQ,
    )
    assert not any(type(e) is AccountSynced and e.epoch == 2 for e in engine.out)
    ((next_id, following),) = _sent_since(engine, start + 4)
    assert isinstance(following, OrderListReq)
    assert following.from_timestamp == older.trade_data.open_timestamp
    mine = _order(8, "mine", first.from_timestamp + 2)
    engine.answer(
        next_id,
        OrderListRes(ctid_trader_account_id=ACCOUNT, order=[older, mine], has_more=False),
        P.PROTO_OA_ORDER_LIST_REQ,
    )
    assert [view.status for view in sink.views] == [HandleStatus.UNKNOWN, HandleStatus.FILLED]
    assert sink.views[-1].order_id == 8
    assert [e.epoch for e in engine.out if type(e) is AccountSynced] == [1, 2]


def _refused(request_id: str, request_type: int) -> ErrorResponse:
    """An error that does not ask the client to wait."""
    return ErrorResponse(
        request_id, P.PROTO_OA_ERROR_RES, "INTERNAL_ERROR", "", None, request_type, {}
    )


def _request_of(engine: _Engine, payload_type: int) -> str:
    """The id of the last request of ``payload_type`` sent."""
    (last, _), *_ = [
        (f"r{n}", sent)
        for n, sent in reversed(list(enumerate(engine.conn.sent, start=1)))
        if isinstance(sent, tuple) and sent[0] == payload_type
    ]
    return last


def _timed_out_order(engine: _Engine, tracking: CTraderTracking, sink: _Sink) -> None:
    """A synced account, and an order whose answer timed out on the link that stays up."""
    tracking.take_snapshot(ACCOUNT, 0.0)
    assert _snapshot_answers(engine, 0) == []
    tracking.place(1, cast(Any, _Call("mine")), sink, 0.0)
    request_id = f"r{len(engine.conn.sent)}"
    timed_out = RequestTimedOut(request_id, P.PROTO_OA_NEW_ORDER_REQ, 5.0, True)
    engine.waiting.pop(request_id)(timed_out, 5.0)
    assert [view.status for view in sink.views] == [HandleStatus.UNKNOWN]


def test_a_failed_snapshot_is_taken_again_and_resolves_the_unknown_order() -> None:
    engine = _Engine()
    tracking = CTraderTracking(cast(Any, engine))
    sink = _Sink()
    _timed_out_order(engine, tracking, sink)
    start = len(engine.conn.sent) - 3  # the reconcile, trader and order list of epoch 2
    reconcile_id = _request_of(engine, P.PROTO_OA_RECONCILE_REQ)
    engine.waiting.pop(reconcile_id)(_refused(reconcile_id, P.PROTO_OA_RECONCILE_REQ), 5.0)
    wait, again = engine.on_link.pop(("resnapshot", ACCOUNT))
    assert wait == 1.0
    assert engine.retries == []
    again(6.0)
    ((page_id, page),) = _snapshot_answers(engine, start + 3)
    assert isinstance(page, OrderListReq)
    mine = _order(8, "mine", page.from_timestamp + 1)
    engine.answer(
        page_id,
        OrderListRes(ctid_trader_account_id=ACCOUNT, order=[mine], has_more=False),
        P.PROTO_OA_ORDER_LIST_REQ,
    )
    assert [view.status for view in sink.views] == [HandleStatus.UNKNOWN, HandleStatus.FILLED]
    assert sink.views[-1].order_id == 8
    assert [e.epoch for e in engine.out if type(e) is AccountSynced] == [1, 3]
    assert engine.on_link == {}


def test_a_failed_snapshot_is_not_taken_again_for_an_account_no_longer_authorized() -> None:
    engine = _Engine()
    tracking = CTraderTracking(cast(Any, engine))
    _timed_out_order(engine, tracking, _Sink())
    sent = len(engine.conn.sent)
    trader_id = _request_of(engine, P.PROTO_OA_TRADER_REQ)
    engine.waiting.pop(trader_id)(_refused(trader_id, P.PROTO_OA_TRADER_REQ), 5.0)
    _, again = engine.on_link.pop(("resnapshot", ACCOUNT))
    tracking.account_lost(ACCOUNT)
    engine.conn.authorized_accounts = frozenset()
    again(6.0)
    assert len(engine.conn.sent) == sent  # its authorization, when it comes, takes one
