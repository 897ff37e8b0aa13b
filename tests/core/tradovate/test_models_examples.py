"""Tradovate's published examples decode to the generated entity Structs with the values they show,
and every place where the documentation and the specification disagree is accepted both ways."""

from __future__ import annotations

import msgspec
import pytest

from brokerwire.core.tradovate import models

# Verbatim from Tradovate's WebSocket documentation (WebSockets.md of the tradovate/api
# repository): a response to `contract/item` and a `props` event.
CONTRACT_FRAME = b'a[{"s":200,"i":23,"d":{"id":65543,"name":"CLZ6","contractMaturityId":6727}}]'
PROPS_FRAME = (
    b'a[{"e":"props","d":{"entityType":"order","eventType":"Created","entity":{"id":210518,'
    b'"accountId":25,"contractId":560901,"timestamp":"2016-11-04T00:02:36.626Z","action":"Sell",'
    b'"ordStatus":"PendingNew","admin":false}}}]'
)
# The arrays the documentation says the `user/syncrequest` answer holds.
DOCUMENTED_SYNC_ARRAYS = (
    "users",
    "contractGroups",
    "accounts",
    "accountRiskStatuses",
    "marginSnapshots",
    "userAccountAutoLiqs",
    "cashBalances",
    "currencies",
    "positions",
    "fillPairs",
    "orders",
    "contracts",
    "contractMaturities",
    "products",
    "exchanges",
    "spreadDefinitions",
    "commands",
    "commandReports",
    "executionReports",
    "orderVersions",
    "fills",
    "orderStrategies",
    "orderStrategyLinks",
    "userProperties",
    "properties",
    "userPlugins",
    "orderStrategyTypes",
    "userReadStatuses",
)
# Named by the documentation, defined nowhere: an answer carrying it still decodes.
UNDEFINED_SYNC_ARRAYS = {"userReadStatuses"}


class Item(msgspec.Struct, frozen=True):
    d: msgspec.Raw
    e: str | None = None
    i: int | None = None
    s: int | None = None


class PropsData(msgspec.Struct, frozen=True):
    entityType: str  # the wire's names
    eventType: str
    entity: msgspec.Raw


def items(frame: bytes) -> list[Item]:
    assert frame.startswith(b"a")
    return msgspec.json.decode(frame[1:], type=list[Item])


def test_the_published_contract_response_decodes_to_a_contract() -> None:
    (item,) = items(CONTRACT_FRAME)
    contract = msgspec.json.decode(item.d, type=models.Contract)
    assert contract == models.Contract(id=65543, name="CLZ6", contract_maturity_id=6727)


def test_the_published_props_event_decodes_to_an_order() -> None:
    (item,) = items(PROPS_FRAME)
    assert item.e == "props"
    props = msgspec.json.decode(item.d, type=PropsData)
    assert (props.entityType, props.eventType) == ("order", "Created")
    order = msgspec.json.decode(props.entity, type=models.ENTITY_TYPES[props.entityType])
    assert order == models.Order(
        id=210518,
        account_id=25,
        contract_id=560901,
        timestamp="2016-11-04T00:02:36.626Z",
        action=models.Action.SELL,
        ord_status=models.OrdStatus.PENDING_NEW,
        admin=False,
    )
    assert isinstance(order, models.Order)
    assert order.action == "Sell"
    assert order.ord_status is models.OrdStatus.PENDING_NEW


def test_timestamps_keep_the_form_the_server_sent() -> None:
    (item,) = items(PROPS_FRAME)
    entity = msgspec.json.decode(item.d, type=PropsData).entity
    order = msgspec.json.decode(entity, type=models.Order)
    assert order.timestamp == "2016-11-04T00:02:36.626Z"
    assert msgspec.json.decode(msgspec.json.encode(order)) == msgspec.json.decode(entity)


def test_the_model_refuses_what_it_cannot_hold_and_ignores_unknown_fields() -> None:
    base = {"accountId": 25, "timestamp": "t", "action": "Sell", "ordStatus": "Working"}
    base["admin"] = False
    order = msgspec.json.decode(msgspec.json.encode({**base, "newField": [1]}), type=models.Order)
    assert order.ord_status is models.OrdStatus.WORKING
    for wrong in ({"accountId": "25"}, {"ordStatus": "Sleeping"}, {"admin": None}):
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(msgspec.json.encode({**base, **wrong}), type=models.Order)
    missing = {k: v for k, v in base.items() if k != "action"}
    with pytest.raises(msgspec.ValidationError, match="action"):
        msgspec.json.decode(msgspec.json.encode(missing), type=models.Order)


# Where the documentation and the specification disagree --------------------------------------


def test_account_risk_status_missing_from_the_specification_is_modelled() -> None:
    """The specification has no AccountRiskStatus; the documentation's entity index defines it."""
    entity = {
        "id": 25,
        "adminAction": "LockTradingImmediately",
        "adminTimestamp": "2026-12-06T20:02:58.957Z",
        "liquidateOnly": "2026-12-06T20:02:58.957Z",
        "userTriggeredLiqOnly": True,
    }
    cls = models.ENTITY_TYPES["accountRiskStatus"]
    status = msgspec.json.decode(msgspec.json.encode(entity), type=cls)
    assert status == models.AccountRiskStatus(
        id=25,
        admin_action=models.AdminAction.LOCK_TRADING_IMMEDIATELY,
        admin_timestamp="2026-12-06T20:02:58.957Z",
        liquidate_only="2026-12-06T20:02:58.957Z",
        user_triggered_liq_only=True,
    )


@pytest.mark.parametrize(
    "spelling", ["AgreedOnLiquidationByAutoLiq", "AgreedOnAutoLiquidationByAutoLiq"]
)
def test_both_spellings_of_the_auto_liquidation_action_are_accepted(spelling: str) -> None:
    status = msgspec.json.decode(
        msgspec.json.encode({"adminAction": spelling}), type=models.AccountRiskStatus
    )
    assert status.admin_action == spelling


def test_the_snapshot_holds_every_array_the_documentation_lists() -> None:
    fields = {f.encode_name for f in msgspec.structs.fields(models.SyncSnapshot)}
    assert "accountRiskStatuses" in fields  # documented, missing from the specification
    assert set(DOCUMENTED_SYNC_ARRAYS) - UNDEFINED_SYNC_ARRAYS <= fields
    assert not UNDEFINED_SYNC_ARRAYS & fields


def test_a_sync_answer_with_every_documented_array_decodes() -> None:
    answer: dict[str, list[object]] = {name: [] for name in DOCUMENTED_SYNC_ARRAYS}
    answer["accountRiskStatuses"] = [{"id": 25, "adminAction": "Normal"}]
    answer["userReadStatuses"] = [{"id": 1, "anything": "kept out"}]
    answer["orders"] = [msgspec.json.decode(PROPS_FRAME[1:])[0]["d"]["entity"]]
    snapshot = msgspec.json.decode(msgspec.json.encode(answer), type=models.SyncSnapshot)
    assert snapshot.account_risk_statuses == [
        models.AccountRiskStatus(id=25, admin_action=models.AdminAction.NORMAL)
    ]
    assert [order.id for order in snapshot.orders] == [210518]
    assert snapshot.users == []


def test_a_sync_answer_without_the_arrays_the_specification_requires_decodes_empty() -> None:
    """The specification requires ``users`` and ``contractGroups``; a part of a split answer, or
    one asked for other entity types, need not carry them."""
    snapshot = msgspec.json.decode(b"{}", type=models.SyncSnapshot)
    assert snapshot == models.SyncSnapshot()
    assert snapshot.users == []
    assert snapshot.contract_groups == []
    assert msgspec.json.encode(snapshot) == b"{}"
