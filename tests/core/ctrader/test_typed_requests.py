"""Requests given as typed messages: checked against their model, then sent as the dict form is."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from brokerwire.core.ctrader import Response
from brokerwire.core.ctrader.messages import payload_of, typed_payload
from brokerwire.core.ctrader.models import (
    ExecutionEvent,
    ExecutionType,
    NewOrderReq,
    OrderType,
    Trader,
    TraderReq,
    TraderRes,
    TradeSide,
    Trendbar,
)
from brokerwire.core.errors import LocalProtocolError
from tests.core.ctrader.helpers import TRANSPORTS, Sent, wire
from tests.core.ctrader.test_connection import ACCOUNT, ORDER, authorized

ORDER_MESSAGE = NewOrderReq(
    ctid_trader_account_id=ACCOUNT,
    symbol_id=1,
    order_type=OrderType.MARKET,
    trade_side=TradeSide.BUY,
    volume=100000,
)


def test_a_typed_message_is_its_payload_type_and_wire_payload() -> None:
    assert payload_of(ORDER_MESSAGE) == (2106, ORDER)
    labelled = msgspec.structs.replace(ORDER_MESSAGE, label="bot 7", stop_loss=1.08)
    assert payload_of(labelled)[1] == {**ORDER, "stopLoss": 1.08, "label": "bot 7"}


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_typed_request_goes_out_as_the_dict_form_does(kind: str) -> None:
    typed, plain = authorized(kind), authorized(kind)
    sent_typed, sent_plain = Sent(kind), Sent(kind)
    typed.request(ORDER_MESSAGE, client_msg_id="o-1")
    plain.request(2106, ORDER, client_msg_id="o-1")
    assert (
        sent_typed(typed)
        == sent_plain(plain)
        == [{"clientMsgId": "o-1", "payloadType": 2106, "payload": ORDER}]
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [("volume", "100000"), ("volume", 1.5), ("symbol_id", None), ("trade_side", 7), ("label", 3)],
)
@pytest.mark.parametrize("kind", TRANSPORTS)
def test_a_field_of_the_wrong_type_is_refused_before_anything_is_sent(
    kind: str, field: str, value: Any
) -> None:
    conn = authorized(kind)
    wrong = msgspec.structs.replace(ORDER_MESSAGE, **{field: value})
    with pytest.raises(LocalProtocolError, match=f"NewOrderReq cannot be sent: .*{_wire(field)}"):
        conn.request(wrong)
    assert conn.data_to_send() == b""
    assert conn.pending_requests == 0


def _wire(field: str) -> str:
    return {"volume": "volume", "symbol_id": "symbolId", "trade_side": "tradeSide"}.get(
        field, field
    )


def test_a_message_without_an_envelope_or_with_a_payload_too_is_refused() -> None:
    conn = authorized("websocket")
    bar = Trendbar(volume=1)
    with pytest.raises(LocalProtocolError, match="not a cTrader Open API message"):
        conn.request(bar)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError, match="typed message alone"):
        conn.request(ORDER_MESSAGE, ORDER)
    with pytest.raises(LocalProtocolError, match="not a cTrader Open API message"):
        payload_of(bar)  # type: ignore[arg-type]
    assert conn.data_to_send() == b""


def test_a_required_field_cannot_be_left_out_of_a_message() -> None:
    with pytest.raises(TypeError, match="symbol_id"):
        NewOrderReq(  # type: ignore[call-arg]
            ctid_trader_account_id=ACCOUNT,
            order_type=OrderType.MARKET,
            trade_side=TradeSide.BUY,
            volume=1,
        )


@pytest.mark.parametrize("kind", TRANSPORTS)
def test_the_answer_to_a_typed_request_reads_as_its_model(kind: str) -> None:
    conn = authorized(kind)
    request = conn.request(TraderReq(ctid_trader_account_id=ACCOUNT))
    trader = {
        "ctidTraderAccountId": ACCOUNT,
        "balance": "1000000",
        "depositAssetId": 15,
        "moneyDigits": 2,
    }
    answer = {"ctidTraderAccountId": str(ACCOUNT), "trader": trader}
    (event,) = conn.receive_data(
        wire(kind, {"clientMsgId": request, "payloadType": 2122, "payload": answer}), 1.0
    )
    assert isinstance(event, Response)
    expected = TraderRes(
        ctid_trader_account_id=ACCOUNT,
        trader=Trader(
            ctid_trader_account_id=ACCOUNT, balance=1000000, deposit_asset_id=15, money_digits=2
        ),
    )
    assert event.message == expected
    assert typed_payload(2122, answer) == expected


def test_an_execution_payload_reads_as_its_model_and_an_unmodelled_type_as_none() -> None:
    execution = {"ctidTraderAccountId": ACCOUNT, "executionType": 2}
    assert typed_payload(2126, execution) == ExecutionEvent(
        ctid_trader_account_id=ACCOUNT, execution_type=ExecutionType.ORDER_ACCEPTED
    )
    assert typed_payload(9999, {"x": 1}) is None
    with pytest.raises(msgspec.ValidationError, match="executionType"):
        typed_payload(2126, {"ctidTraderAccountId": ACCOUNT})
