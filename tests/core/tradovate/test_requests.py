"""The generated request and answer Structs, order strategy params, and typed bodies checked
before they are sent."""

from __future__ import annotations

import enum
import inspect
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.jsonlib import ValidationError, loads
from brokerwire.core.tradovate import models, requests
from brokerwire.core.tradovate.bodies import body_of, typed_answer
from brokerwire.core.tradovate.requests import (
    ANSWER_TYPES,
    REQUEST_TYPES,
    ChartDescription,
    ChartTimeRange,
    CommandResult,
    GetChart,
    PlaceOrder,
    PlaceOrderResult,
)
from brokerwire.core.tradovate.strategy import (
    MULTIBRACKET,
    AutoTrail,
    Bracket,
    EntryVersion,
    OrderStrategyParams,
    params_of,
    start_order_strategy,
)
from tests.codegen import tradovate_models as generator
from tests.codegen import tradovate_requests

DATA = Path(__file__).parent / "data"
STRUCTS: list[type[msgspec.Struct]] = [
    cls
    for _, cls in inspect.getmembers(requests, inspect.isclass)
    if issubclass(cls, msgspec.Struct) and cls.__module__ == requests.__name__
]
NEW_ENUMS = [
    cls
    for _, cls in inspect.getmembers(requests, inspect.isclass)
    if issubclass(cls, enum.StrEnum) and cls.__module__ == requests.__name__
]


def sample(kind: msgspec.inspect.Type, seed: int, *, complete: bool) -> Any:
    """A value of ``kind`` that differs with ``seed`` (so swapped fields would show)."""
    if isinstance(kind, msgspec.inspect.UnionType):
        kind = next(t for t in kind.types if not isinstance(t, msgspec.inspect.NoneType))
    if isinstance(kind, msgspec.inspect.BoolType):
        return seed % 2 == 0
    if isinstance(kind, msgspec.inspect.IntType):
        return 1_000_003 * seed + 7
    if isinstance(kind, msgspec.inspect.FloatType):
        return seed + 0.25
    if isinstance(kind, msgspec.inspect.StrType):
        return f"value {seed} \u00e9"
    if isinstance(kind, msgspec.inspect.EnumType):
        members = list(kind.cls)
        return members[seed % len(members)]
    if isinstance(kind, msgspec.inspect.ListType):
        return [sample(kind.item_type, seed + i, complete=complete) for i in range(2)]
    if isinstance(kind, msgspec.inspect.StructType):
        return build(kind.cls, seed, complete=complete)
    raise AssertionError(f"no sample for {kind!r}")


def fields_of(cls: type[msgspec.Struct]) -> tuple[msgspec.inspect.Field, ...]:
    info = msgspec.inspect.type_info(cls)
    assert isinstance(info, msgspec.inspect.StructType)
    return info.fields


def build(cls: type[msgspec.Struct], seed: int = 1, *, complete: bool = True) -> Any:
    """``cls`` with every field set (``complete``) or only its required fields."""
    values = {
        field.name: sample(field.type, seed * 100 + index, complete=complete)
        for index, field in enumerate(fields_of(cls))
        if complete or field.required
    }
    return cls(**values)


def spec_schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for name in ("tradovate-md.swagger.yaml", "tradovate-services.swagger.yaml"):
        with (DATA / name).open(encoding="utf-8") as stream:
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            schemas.update(yaml.load(stream, Loader=loader)["components"]["schemas"])  # noqa: S506
    return schemas


# -- the generated module ---------------------------------------------------------------------


@pytest.mark.parametrize("complete", [True, False], ids=["every-field", "required-only"])
@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
def test_every_request_and_answer_round_trips(cls: type[msgspec.Struct], complete: bool) -> None:
    original = build(cls, complete=complete)
    encoded = msgspec.json.encode(original)
    assert msgspec.json.decode(encoded, type=cls) == original
    wire = loads(encoded)
    expected = {f.encode_name for f in fields_of(cls) if complete or f.required}
    assert set(wire) == expected
    assert body_of("any/endpoint", original) == wire


def test_every_endpoint_has_a_body_and_an_answer_and_every_struct_is_used() -> None:
    assert set(REQUEST_TYPES) == set(ANSWER_TYPES)
    assert set(REQUEST_TYPES) >= {
        "order/placeorder",
        "order/modifyorder",
        "order/cancelorder",
        "order/liquidateposition",
        "orderstrategy/startorderstrategy",
        "md/getchart",
        "replay/checkreplaysession",
        "replay/initializeclock",
        "replay/changespeed",
    }
    assert REQUEST_TYPES["order/placeorder"] is PlaceOrder
    assert ANSWER_TYPES["order/placeorder"] is PlaceOrderResult
    assert ANSWER_TYPES["order/cancelorder"] is CommandResult
    tops = set(REQUEST_TYPES.values()) | set(ANSWER_TYPES.values())
    parts = {
        unwrap.cls
        for cls in STRUCTS
        for f in fields_of(cls)
        for unwrap in [f.type, *getattr(f.type, "types", ())]
        if isinstance(unwrap, msgspec.inspect.StructType)
    }
    assert set(STRUCTS) == (tops | parts) - {models.OrderStrategy}
    assert {cls.__name__ for cls in STRUCTS} <= set(requests.__all__)


@pytest.mark.parametrize("cls", STRUCTS, ids=lambda cls: cls.__name__)
def test_wire_names_and_required_fields_follow_the_specifications(
    cls: type[msgspec.Struct],
) -> None:
    schema = spec_schemas()[cls.__name__]
    fields = {f.encode_name: f for f in fields_of(cls)}
    assert list(fields) == list(schema["properties"])
    required = set(schema.get("required", []))
    if cls is requests.ChartSubscriptionResult:
        required.discard("mode")  # the published example answer has none
    assert {name for name, f in fields.items() if f.required} == required
    assert all(f.default is None for f in fields.values() if not f.required)
    assert cls.__struct_config__.frozen
    assert cls.__struct_config__.omit_defaults


def test_enums_are_the_entity_enums_where_the_values_agree() -> None:
    types = {f.name: f.type for f in fields_of(PlaceOrder)}
    assert types["action"] == msgspec.inspect.EnumType(models.Action)
    assert types["order_type"] == msgspec.inspect.EnumType(models.OrderType)
    failure = {f.name: f.type for f in fields_of(PlaceOrderResult)}["failure_reason"]
    assert isinstance(failure, msgspec.inspect.UnionType)
    assert models.RejectReason in {getattr(t, "cls", None) for t in failure.types}
    assert {e.__name__ for e in NEW_ENUMS} == {
        "CheckStatus",
        "ElementSizeUnit",
        "SubscriptionErrorCode",
        "SubscriptionMode",
        "UnderlyingType",
    }


def test_a_chart_request_takes_a_contract_name_or_id_and_its_answer_may_lack_mode() -> None:
    description = ChartDescription(
        underlying_type=requests.UnderlyingType.MINUTE_BAR,
        element_size=1,
        element_size_unit=requests.ElementSizeUnit.UNDERLYING_UNITS,
        with_histogram=False,
    )
    by_name = GetChart(
        symbol="ESZ4",
        chart_description=description,
        time_range=ChartTimeRange(as_much_as_elements=100),
    )
    # The request as Tradovate's market-data documentation shows it.
    assert msgspec.json.encode(by_name) == (
        b'{"symbol":"ESZ4","chartDescription":{"underlyingType":"MinuteBar","elementSize":1,'
        b'"elementSizeUnit":"UnderlyingUnits","withHistogram":false},'
        b'"timeRange":{"asMuchAsElements":100}}'
    )
    by_id = msgspec.structs.replace(by_name, symbol=123456)
    assert msgspec.json.decode(msgspec.json.encode(by_id), type=GetChart) == by_id
    answer = typed_answer("md/getChart", {"historicalId": 32, "realtimeId": 31})
    assert answer == requests.ChartSubscriptionResult(historical_id=32, realtime_id=31)


# -- typed bodies and answers -----------------------------------------------------------------


def order(**changes: Any) -> PlaceOrder:
    placed = PlaceOrder(
        account_spec="SIM7001",
        account_id=7001,
        action=models.Action.BUY,
        symbol="ESZ6",
        order_qty=1,
        order_type=models.OrderType.LIMIT,
        price=5990.25,
        is_automated=True,
    )
    return msgspec.structs.replace(placed, **changes)


def test_a_body_goes_out_by_wire_name_without_absent_fields() -> None:
    assert body_of("order/placeOrder", order()) == {
        "accountSpec": "SIM7001",
        "accountId": 7001,
        "action": "Buy",
        "symbol": "ESZ6",
        "orderQty": 1,
        "orderType": "Limit",
        "price": 5990.25,
        "isAutomated": True,
    }


@pytest.mark.parametrize(
    "changes",
    [{"order_qty": "1"}, {"action": "Hold"}, {"price": "5990"}, {"symbol": None}],
    ids=["qty-string", "action-unknown", "price-string", "symbol-missing"],
)
def test_a_wrong_typed_field_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(LocalProtocolError, match="PlaceOrder cannot be sent"):
        body_of("order/placeorder", order(**changes))


def test_a_body_of_another_endpoint_is_refused() -> None:
    with pytest.raises(LocalProtocolError, match="takes ModifyOrder, not PlaceOrder"):
        body_of("order/modifyorder", order())


def test_answers_come_back_typed_or_as_decoded_when_the_model_refuses_them() -> None:
    assert typed_answer("order/placeorder", {"orderId": 5}) == PlaceOrderResult(order_id=5)
    refused = typed_answer("order/cancelorder", {"failureReason": "TooLate", "failureText": "x"})
    assert refused == CommandResult(failure_reason=models.RejectReason.TOO_LATE, failure_text="x")
    newer = {"failureReason": "SomethingNew"}
    assert typed_answer("order/placeorder", newer) == newer
    assert typed_answer("contract/find", {"id": 1}) == {"id": 1}
    status = typed_answer("replay/checkReplaySession", {"checkStatus": "OK"})
    assert status == requests.CheckReplaySessionResponse(check_status=requests.CheckStatus.OK)


# -- order strategies ---------------------------------------------------------------------------


def strategy_params() -> OrderStrategyParams:
    return OrderStrategyParams(
        entry_version=EntryVersion(order_qty=2, order_type=models.OrderType.MARKET),
        brackets=[
            Bracket(qty=1, profit_target=30, stop_loss=-15, trailing_stop=False),
            Bracket(
                qty=1,
                profit_target=50.5,
                stop_loss=-10,
                trailing_stop=True,
                auto_trail=AutoTrail(stop_loss=4, trigger=8, freq=0.25),
            ),
        ],
    )


def test_order_strategy_params_travel_as_a_json_string() -> None:
    params = strategy_params()
    request = start_order_strategy(
        symbol="MESZ6", action="Buy", params=params, account_id=7001, account_spec="SIM7001"
    )
    wire = body_of("orderStrategy/startOrderStrategy", request)
    assert wire["orderStrategyTypeId"] == MULTIBRACKET
    assert isinstance(wire["params"], str)
    assert loads(wire["params"]) == {
        "entryVersion": {"orderQty": 2, "orderType": "Market"},
        "brackets": [
            {"qty": 1, "profitTarget": 30, "stopLoss": -15, "trailingStop": False},
            {
                "qty": 1,
                "profitTarget": 50.5,
                "stopLoss": -10,
                "trailingStop": True,
                "autoTrail": {"stopLoss": 4, "trigger": 8, "freq": 0.25},
            },
        ],
    }
    assert params_of(request) == params
    decoded = msgspec.json.decode(msgspec.json.encode(request), type=type(request))
    assert params_of(decoded) == params
    entity = models.OrderStrategy(
        account_id=7001,
        timestamp="2026-12-06T12:00:00Z",
        contract_id=1,
        order_strategy_type_id=MULTIBRACKET,
        action=models.Action.BUY,
        params=wire["params"],
        status=models.OrderStrategyStatus.ACTIVE_STRATEGY,
    )
    assert params_of(entity) == params


def test_order_strategy_params_of_the_wrong_type_are_refused() -> None:
    entry = EntryVersion(order_qty="2", order_type=models.OrderType.MARKET)  # type: ignore[arg-type]
    wrong = OrderStrategyParams(entry_version=entry)
    with pytest.raises(LocalProtocolError, match="params cannot be sent"):
        start_order_strategy(symbol="MESZ6", action="Buy", params=wrong)
    with pytest.raises(LocalProtocolError, match="Buy or Sell, not 'Hold'"):
        start_order_strategy(symbol="MESZ6", action="Hold", params=strategy_params())
    holder = models.OrderStrategy(
        account_id=1,
        timestamp="t",
        contract_id=1,
        order_strategy_type_id=2,
        action=models.Action.BUY,
        params='{"brackets": []}',
        status=models.OrderStrategyStatus.ACTIVE_STRATEGY,
    )
    with pytest.raises(ValidationError):
        params_of(holder)


# -- the generator ------------------------------------------------------------------------------


def test_the_generator_reproduces_the_checked_in_request_module() -> None:
    expected = tradovate_requests.render(generator.build_model())
    assert tradovate_requests.TARGET.read_text(encoding="utf-8") == expected


def test_the_check_fails_when_the_request_module_differs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    models_copy, requests_copy = tmp_path / "models.py", tmp_path / "requests.py"
    models_copy.write_text(generator.TARGET.read_text(encoding="utf-8"))
    requests_copy.write_text(tradovate_requests.TARGET.read_text(encoding="utf-8") + "# edited\n")
    monkeypatch.setattr(generator, "ROOT", tmp_path)
    monkeypatch.setattr(generator, "TARGET", models_copy)
    monkeypatch.setattr(tradovate_requests, "TARGET", requests_copy)
    assert generator.main(["--check"]) == 1
    assert "requests.py is out of date" in capsys.readouterr().err
    assert generator.main([]) == 0
    assert generator.main(["--check"]) == 0
