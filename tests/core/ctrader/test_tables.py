"""brokerwire's cTrader tables against the .proto enums (tests/core/ctrader/data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from brokerwire.core.ctrader import (
    ACCOUNT_SCOPED_REQUESTS,
    ERROR_CODE_DESCRIPTIONS,
    EVENT_TYPES,
    HISTORICAL_REQUESTS,
    MESSAGE_NAMES,
    ORDER_REQUESTS,
    REQUEST_TYPES,
    RESPONSE_OF,
    RESPONSE_TYPES,
    CommonErrorCode,
    ExecutionType,
    OAErrorCode,
    OrderType,
    PayloadType,
    TradeSide,
    TrendbarPeriod,
    message_name,
)

DATA = (Path(__file__).parent / "data" / "ctrader-tables.md").read_text(encoding="utf-8")


def enum_table(name: str) -> dict[str, int]:
    start = DATA.index(f"#### `{name}`")
    end = DATA.find("\n#### ", start + 1)
    rows = re.findall(
        r"^\| `([A-Z0-9_]+)` \| (\d+) \|", DATA[start : end if end > 0 else None], re.M
    )
    assert rows, f"no rows found for {name}"
    return {row_name: int(value) for row_name, value in rows}


def message_rows() -> dict[int, tuple[str, str, str]]:
    rows = re.findall(
        r"^\| (\d+) \| `[A-Z0-9_]+` \| \w+ \| `(\w+)` \| (\w+) \| (\S+) \|", DATA, re.M
    )
    return {int(value): (message, kind, account) for value, message, kind, account in rows}


def members(enum_class: type) -> dict[str, int]:
    return {member.name: member.value for member in enum_class}  # type: ignore[attr-defined]


def test_payload_types_are_exactly_the_proto_enums() -> None:
    expected = enum_table("ProtoPayloadType") | enum_table("ProtoOAPayloadType")
    assert members(PayloadType) == expected
    assert PayloadType.PROTO_MESSAGE == 5
    assert PayloadType.ERROR_RES == 50
    assert PayloadType.HEARTBEAT_EVENT == 51
    oa_values = sorted(v for v in expected.values() if v >= 2100)
    assert oa_values == list(range(2100, 2189))


@pytest.mark.parametrize(
    ("enum_class", "table"),
    [
        (CommonErrorCode, "ProtoErrorCode"),
        (OAErrorCode, "ProtoOAErrorCode"),
        (ExecutionType, "ProtoOAExecutionType"),
        (TrendbarPeriod, "ProtoOATrendbarPeriod"),
        (TradeSide, "ProtoOATradeSide"),
        (OrderType, "ProtoOAOrderType"),
    ],
)
def test_other_enums_match(enum_class: type, table: str) -> None:
    assert members(enum_class) == enum_table(table)


def test_every_error_code_has_its_description() -> None:
    names = set(members(CommonErrorCode)) | set(members(OAErrorCode))
    assert set(ERROR_CODE_DESCRIPTIONS) == names
    assert ERROR_CODE_DESCRIPTIONS["CH_CLIENT_AUTH_FAILURE"].startswith(
        "Open API client is not activated"
    )


def test_message_names_and_kinds() -> None:
    rows = message_rows()
    assert {value: message for value, (message, _, _) in rows.items()} == MESSAGE_NAMES
    assert message_name(2131) == "ProtoOASpotEvent"
    assert message_name(2149) == "ProtoOAGetAccountListByAccessTokenReq"
    assert "unknown" in message_name(2189)
    assert {v for v, (_, kind, _) in rows.items() if kind == "Req"} == REQUEST_TYPES
    assert {v for v, (_, kind, _) in rows.items() if kind == "Res"} == RESPONSE_TYPES
    assert {v for v, (_, kind, _) in rows.items() if kind == "Event"} == EVENT_TYPES
    assert {
        v for v, (_, kind, account) in rows.items() if kind == "Req" and account == "required"
    } == ACCOUNT_SCOPED_REQUESTS


def test_every_request_knows_what_answers_it() -> None:
    assert set(RESPONSE_OF) == set(REQUEST_TYPES)
    for request, answer in RESPONSE_OF.items():
        if request in ORDER_REQUESTS:
            assert answer == PayloadType.PROTO_OA_EXECUTION_EVENT
        else:
            assert PayloadType(answer).name == PayloadType(request).name[:-4] + "_RES"
    assert RESPONSE_OF[PayloadType.PROTO_OA_SUBSCRIBE_LIVE_TRENDBAR_REQ] == 2165
    assert RESPONSE_OF[PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ] == 2150


def test_historical_requests_are_requests_that_page_through_history() -> None:
    assert HISTORICAL_REQUESTS <= REQUEST_TYPES
    assert PayloadType.PROTO_OA_GET_TRENDBARS_REQ in HISTORICAL_REQUESTS
    assert PayloadType.PROTO_OA_GET_TICKDATA_REQ in HISTORICAL_REQUESTS
    assert PayloadType.PROTO_OA_NEW_ORDER_REQ not in HISTORICAL_REQUESTS
