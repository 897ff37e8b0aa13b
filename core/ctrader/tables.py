"""cTrader Open API tables: payload types, message names, error codes, and how they relate.

Names and numbers are those of Spotware's .proto files (openapi-proto-messages, the revision
that ends ProtoOAPayloadType at 2188), as tabulated in the project's reference notes. The
PnL-change payload types 2189-2193 were removed from the enum upstream and are not here; a
message that carries one still passes through as an unknown payload type.
"""

from __future__ import annotations

import enum

__all__ = [
    "ACCOUNT_SCOPED_REQUESTS",
    "ERROR_CODE_DESCRIPTIONS",
    "EVENT_TYPES",
    "HISTORICAL_REQUESTS",
    "MESSAGE_NAMES",
    "ORDER_REQUESTS",
    "REQUEST_TYPES",
    "RESPONSE_OF",
    "RESPONSE_TYPES",
    "CommonErrorCode",
    "ExecutionType",
    "OAErrorCode",
    "PayloadType",
    "TrendbarPeriod",
    "message_name",
]


class PayloadType(enum.IntEnum):
    """Every value of ProtoPayloadType (5, 50, 51) and ProtoOAPayloadType (2100-2188)."""

    PROTO_MESSAGE = 5
    ERROR_RES = 50
    HEARTBEAT_EVENT = 51
    PROTO_OA_APPLICATION_AUTH_REQ = 2100
    PROTO_OA_APPLICATION_AUTH_RES = 2101
    PROTO_OA_ACCOUNT_AUTH_REQ = 2102
    PROTO_OA_ACCOUNT_AUTH_RES = 2103
    PROTO_OA_VERSION_REQ = 2104
    PROTO_OA_VERSION_RES = 2105
    PROTO_OA_NEW_ORDER_REQ = 2106
    PROTO_OA_TRAILING_SL_CHANGED_EVENT = 2107
    PROTO_OA_CANCEL_ORDER_REQ = 2108
    PROTO_OA_AMEND_ORDER_REQ = 2109
    PROTO_OA_AMEND_POSITION_SLTP_REQ = 2110
    PROTO_OA_CLOSE_POSITION_REQ = 2111
    PROTO_OA_ASSET_LIST_REQ = 2112
    PROTO_OA_ASSET_LIST_RES = 2113
    PROTO_OA_SYMBOLS_LIST_REQ = 2114
    PROTO_OA_SYMBOLS_LIST_RES = 2115
    PROTO_OA_SYMBOL_BY_ID_REQ = 2116
    PROTO_OA_SYMBOL_BY_ID_RES = 2117
    PROTO_OA_SYMBOLS_FOR_CONVERSION_REQ = 2118
    PROTO_OA_SYMBOLS_FOR_CONVERSION_RES = 2119
    PROTO_OA_SYMBOL_CHANGED_EVENT = 2120
    PROTO_OA_TRADER_REQ = 2121
    PROTO_OA_TRADER_RES = 2122
    PROTO_OA_TRADER_UPDATE_EVENT = 2123
    PROTO_OA_RECONCILE_REQ = 2124
    PROTO_OA_RECONCILE_RES = 2125
    PROTO_OA_EXECUTION_EVENT = 2126
    PROTO_OA_SUBSCRIBE_SPOTS_REQ = 2127
    PROTO_OA_SUBSCRIBE_SPOTS_RES = 2128
    PROTO_OA_UNSUBSCRIBE_SPOTS_REQ = 2129
    PROTO_OA_UNSUBSCRIBE_SPOTS_RES = 2130
    PROTO_OA_SPOT_EVENT = 2131
    PROTO_OA_ORDER_ERROR_EVENT = 2132
    PROTO_OA_DEAL_LIST_REQ = 2133
    PROTO_OA_DEAL_LIST_RES = 2134
    PROTO_OA_SUBSCRIBE_LIVE_TRENDBAR_REQ = 2135
    PROTO_OA_UNSUBSCRIBE_LIVE_TRENDBAR_REQ = 2136
    PROTO_OA_GET_TRENDBARS_REQ = 2137
    PROTO_OA_GET_TRENDBARS_RES = 2138
    PROTO_OA_EXPECTED_MARGIN_REQ = 2139
    PROTO_OA_EXPECTED_MARGIN_RES = 2140
    PROTO_OA_MARGIN_CHANGED_EVENT = 2141
    PROTO_OA_ERROR_RES = 2142
    PROTO_OA_CASH_FLOW_HISTORY_LIST_REQ = 2143
    PROTO_OA_CASH_FLOW_HISTORY_LIST_RES = 2144
    PROTO_OA_GET_TICKDATA_REQ = 2145
    PROTO_OA_GET_TICKDATA_RES = 2146
    PROTO_OA_ACCOUNTS_TOKEN_INVALIDATED_EVENT = 2147
    PROTO_OA_CLIENT_DISCONNECT_EVENT = 2148
    PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ = 2149
    PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_RES = 2150
    PROTO_OA_GET_CTID_PROFILE_BY_TOKEN_REQ = 2151
    PROTO_OA_GET_CTID_PROFILE_BY_TOKEN_RES = 2152
    PROTO_OA_ASSET_CLASS_LIST_REQ = 2153
    PROTO_OA_ASSET_CLASS_LIST_RES = 2154
    PROTO_OA_DEPTH_EVENT = 2155
    PROTO_OA_SUBSCRIBE_DEPTH_QUOTES_REQ = 2156
    PROTO_OA_SUBSCRIBE_DEPTH_QUOTES_RES = 2157
    PROTO_OA_UNSUBSCRIBE_DEPTH_QUOTES_REQ = 2158
    PROTO_OA_UNSUBSCRIBE_DEPTH_QUOTES_RES = 2159
    PROTO_OA_SYMBOL_CATEGORY_REQ = 2160
    PROTO_OA_SYMBOL_CATEGORY_RES = 2161
    PROTO_OA_ACCOUNT_LOGOUT_REQ = 2162
    PROTO_OA_ACCOUNT_LOGOUT_RES = 2163
    PROTO_OA_ACCOUNT_DISCONNECT_EVENT = 2164
    PROTO_OA_SUBSCRIBE_LIVE_TRENDBAR_RES = 2165
    PROTO_OA_UNSUBSCRIBE_LIVE_TRENDBAR_RES = 2166
    PROTO_OA_MARGIN_CALL_LIST_REQ = 2167
    PROTO_OA_MARGIN_CALL_LIST_RES = 2168
    PROTO_OA_MARGIN_CALL_UPDATE_REQ = 2169
    PROTO_OA_MARGIN_CALL_UPDATE_RES = 2170
    PROTO_OA_MARGIN_CALL_UPDATE_EVENT = 2171
    PROTO_OA_MARGIN_CALL_TRIGGER_EVENT = 2172
    PROTO_OA_REFRESH_TOKEN_REQ = 2173
    PROTO_OA_REFRESH_TOKEN_RES = 2174
    PROTO_OA_ORDER_LIST_REQ = 2175
    PROTO_OA_ORDER_LIST_RES = 2176
    PROTO_OA_GET_DYNAMIC_LEVERAGE_REQ = 2177
    PROTO_OA_GET_DYNAMIC_LEVERAGE_RES = 2178
    PROTO_OA_DEAL_LIST_BY_POSITION_ID_REQ = 2179
    PROTO_OA_DEAL_LIST_BY_POSITION_ID_RES = 2180
    PROTO_OA_ORDER_DETAILS_REQ = 2181
    PROTO_OA_ORDER_DETAILS_RES = 2182
    PROTO_OA_ORDER_LIST_BY_POSITION_ID_REQ = 2183
    PROTO_OA_ORDER_LIST_BY_POSITION_ID_RES = 2184
    PROTO_OA_DEAL_OFFSET_LIST_REQ = 2185
    PROTO_OA_DEAL_OFFSET_LIST_RES = 2186
    PROTO_OA_GET_POSITION_UNREALIZED_PNL_REQ = 2187
    PROTO_OA_GET_POSITION_UNREALIZED_PNL_RES = 2188


# The message each payload type carries (from the payloadType default of each .proto message).
MESSAGE_NAMES: dict[int, str] = {
    50: "ProtoErrorRes",
    51: "ProtoHeartbeatEvent",
    2100: "ProtoOAApplicationAuthReq",
    2101: "ProtoOAApplicationAuthRes",
    2102: "ProtoOAAccountAuthReq",
    2103: "ProtoOAAccountAuthRes",
    2104: "ProtoOAVersionReq",
    2105: "ProtoOAVersionRes",
    2106: "ProtoOANewOrderReq",
    2107: "ProtoOATrailingSLChangedEvent",
    2108: "ProtoOACancelOrderReq",
    2109: "ProtoOAAmendOrderReq",
    2110: "ProtoOAAmendPositionSLTPReq",
    2111: "ProtoOAClosePositionReq",
    2112: "ProtoOAAssetListReq",
    2113: "ProtoOAAssetListRes",
    2114: "ProtoOASymbolsListReq",
    2115: "ProtoOASymbolsListRes",
    2116: "ProtoOASymbolByIdReq",
    2117: "ProtoOASymbolByIdRes",
    2118: "ProtoOASymbolsForConversionReq",
    2119: "ProtoOASymbolsForConversionRes",
    2120: "ProtoOASymbolChangedEvent",
    2121: "ProtoOATraderReq",
    2122: "ProtoOATraderRes",
    2123: "ProtoOATraderUpdatedEvent",
    2124: "ProtoOAReconcileReq",
    2125: "ProtoOAReconcileRes",
    2126: "ProtoOAExecutionEvent",
    2127: "ProtoOASubscribeSpotsReq",
    2128: "ProtoOASubscribeSpotsRes",
    2129: "ProtoOAUnsubscribeSpotsReq",
    2130: "ProtoOAUnsubscribeSpotsRes",
    2131: "ProtoOASpotEvent",
    2132: "ProtoOAOrderErrorEvent",
    2133: "ProtoOADealListReq",
    2134: "ProtoOADealListRes",
    2135: "ProtoOASubscribeLiveTrendbarReq",
    2136: "ProtoOAUnsubscribeLiveTrendbarReq",
    2137: "ProtoOAGetTrendbarsReq",
    2138: "ProtoOAGetTrendbarsRes",
    2139: "ProtoOAExpectedMarginReq",
    2140: "ProtoOAExpectedMarginRes",
    2141: "ProtoOAMarginChangedEvent",
    2142: "ProtoOAErrorRes",
    2143: "ProtoOACashFlowHistoryListReq",
    2144: "ProtoOACashFlowHistoryListRes",
    2145: "ProtoOAGetTickDataReq",
    2146: "ProtoOAGetTickDataRes",
    2147: "ProtoOAAccountsTokenInvalidatedEvent",
    2148: "ProtoOAClientDisconnectEvent",
    2149: "ProtoOAGetAccountListByAccessTokenReq",
    2150: "ProtoOAGetAccountListByAccessTokenRes",
    2151: "ProtoOAGetCtidProfileByTokenReq",
    2152: "ProtoOAGetCtidProfileByTokenRes",
    2153: "ProtoOAAssetClassListReq",
    2154: "ProtoOAAssetClassListRes",
    2155: "ProtoOADepthEvent",
    2156: "ProtoOASubscribeDepthQuotesReq",
    2157: "ProtoOASubscribeDepthQuotesRes",
    2158: "ProtoOAUnsubscribeDepthQuotesReq",
    2159: "ProtoOAUnsubscribeDepthQuotesRes",
    2160: "ProtoOASymbolCategoryListReq",
    2161: "ProtoOASymbolCategoryListRes",
    2162: "ProtoOAAccountLogoutReq",
    2163: "ProtoOAAccountLogoutRes",
    2164: "ProtoOAAccountDisconnectEvent",
    2165: "ProtoOASubscribeLiveTrendbarRes",
    2166: "ProtoOAUnsubscribeLiveTrendbarRes",
    2167: "ProtoOAMarginCallListReq",
    2168: "ProtoOAMarginCallListRes",
    2169: "ProtoOAMarginCallUpdateReq",
    2170: "ProtoOAMarginCallUpdateRes",
    2171: "ProtoOAMarginCallUpdateEvent",
    2172: "ProtoOAMarginCallTriggerEvent",
    2173: "ProtoOARefreshTokenReq",
    2174: "ProtoOARefreshTokenRes",
    2175: "ProtoOAOrderListReq",
    2176: "ProtoOAOrderListRes",
    2177: "ProtoOAGetDynamicLeverageByIDReq",
    2178: "ProtoOAGetDynamicLeverageByIDRes",
    2179: "ProtoOADealListByPositionIdReq",
    2180: "ProtoOADealListByPositionIdRes",
    2181: "ProtoOAOrderDetailsReq",
    2182: "ProtoOAOrderDetailsRes",
    2183: "ProtoOAOrderListByPositionIdReq",
    2184: "ProtoOAOrderListByPositionIdRes",
    2185: "ProtoOADealOffsetListReq",
    2186: "ProtoOADealOffsetListRes",
    2187: "ProtoOAGetPositionUnrealizedPnLReq",
    2188: "ProtoOAGetPositionUnrealizedPnLRes",
}

# Messages a client sends and expects an answer to.
REQUEST_TYPES: frozenset[int] = frozenset(
    {
        PayloadType.PROTO_OA_APPLICATION_AUTH_REQ,
        PayloadType.PROTO_OA_ACCOUNT_AUTH_REQ,
        PayloadType.PROTO_OA_VERSION_REQ,
        PayloadType.PROTO_OA_NEW_ORDER_REQ,
        PayloadType.PROTO_OA_CANCEL_ORDER_REQ,
        PayloadType.PROTO_OA_AMEND_ORDER_REQ,
        PayloadType.PROTO_OA_AMEND_POSITION_SLTP_REQ,
        PayloadType.PROTO_OA_CLOSE_POSITION_REQ,
        PayloadType.PROTO_OA_ASSET_LIST_REQ,
        PayloadType.PROTO_OA_SYMBOLS_LIST_REQ,
        PayloadType.PROTO_OA_SYMBOL_BY_ID_REQ,
        PayloadType.PROTO_OA_SYMBOLS_FOR_CONVERSION_REQ,
        PayloadType.PROTO_OA_TRADER_REQ,
        PayloadType.PROTO_OA_RECONCILE_REQ,
        PayloadType.PROTO_OA_SUBSCRIBE_SPOTS_REQ,
        PayloadType.PROTO_OA_UNSUBSCRIBE_SPOTS_REQ,
        PayloadType.PROTO_OA_DEAL_LIST_REQ,
        PayloadType.PROTO_OA_SUBSCRIBE_LIVE_TRENDBAR_REQ,
        PayloadType.PROTO_OA_UNSUBSCRIBE_LIVE_TRENDBAR_REQ,
        PayloadType.PROTO_OA_GET_TRENDBARS_REQ,
        PayloadType.PROTO_OA_EXPECTED_MARGIN_REQ,
        PayloadType.PROTO_OA_CASH_FLOW_HISTORY_LIST_REQ,
        PayloadType.PROTO_OA_GET_TICKDATA_REQ,
        PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ,
        PayloadType.PROTO_OA_GET_CTID_PROFILE_BY_TOKEN_REQ,
        PayloadType.PROTO_OA_ASSET_CLASS_LIST_REQ,
        PayloadType.PROTO_OA_SUBSCRIBE_DEPTH_QUOTES_REQ,
        PayloadType.PROTO_OA_UNSUBSCRIBE_DEPTH_QUOTES_REQ,
        PayloadType.PROTO_OA_SYMBOL_CATEGORY_REQ,
        PayloadType.PROTO_OA_ACCOUNT_LOGOUT_REQ,
        PayloadType.PROTO_OA_MARGIN_CALL_LIST_REQ,
        PayloadType.PROTO_OA_MARGIN_CALL_UPDATE_REQ,
        PayloadType.PROTO_OA_REFRESH_TOKEN_REQ,
        PayloadType.PROTO_OA_ORDER_LIST_REQ,
        PayloadType.PROTO_OA_GET_DYNAMIC_LEVERAGE_REQ,
        PayloadType.PROTO_OA_DEAL_LIST_BY_POSITION_ID_REQ,
        PayloadType.PROTO_OA_ORDER_DETAILS_REQ,
        PayloadType.PROTO_OA_ORDER_LIST_BY_POSITION_ID_REQ,
        PayloadType.PROTO_OA_DEAL_OFFSET_LIST_REQ,
        PayloadType.PROTO_OA_GET_POSITION_UNREALIZED_PNL_REQ,
    }
)

# Messages that answer a request (including the two error responses).
RESPONSE_TYPES: frozenset[int] = frozenset(
    {
        PayloadType.ERROR_RES,
        PayloadType.PROTO_OA_APPLICATION_AUTH_RES,
        PayloadType.PROTO_OA_ACCOUNT_AUTH_RES,
        PayloadType.PROTO_OA_VERSION_RES,
        PayloadType.PROTO_OA_ASSET_LIST_RES,
        PayloadType.PROTO_OA_SYMBOLS_LIST_RES,
        PayloadType.PROTO_OA_SYMBOL_BY_ID_RES,
        PayloadType.PROTO_OA_SYMBOLS_FOR_CONVERSION_RES,
        PayloadType.PROTO_OA_TRADER_RES,
        PayloadType.PROTO_OA_RECONCILE_RES,
        PayloadType.PROTO_OA_SUBSCRIBE_SPOTS_RES,
        PayloadType.PROTO_OA_UNSUBSCRIBE_SPOTS_RES,
        PayloadType.PROTO_OA_DEAL_LIST_RES,
        PayloadType.PROTO_OA_GET_TRENDBARS_RES,
        PayloadType.PROTO_OA_EXPECTED_MARGIN_RES,
        PayloadType.PROTO_OA_ERROR_RES,
        PayloadType.PROTO_OA_CASH_FLOW_HISTORY_LIST_RES,
        PayloadType.PROTO_OA_GET_TICKDATA_RES,
        PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_RES,
        PayloadType.PROTO_OA_GET_CTID_PROFILE_BY_TOKEN_RES,
        PayloadType.PROTO_OA_ASSET_CLASS_LIST_RES,
        PayloadType.PROTO_OA_SUBSCRIBE_DEPTH_QUOTES_RES,
        PayloadType.PROTO_OA_UNSUBSCRIBE_DEPTH_QUOTES_RES,
        PayloadType.PROTO_OA_SYMBOL_CATEGORY_RES,
        PayloadType.PROTO_OA_ACCOUNT_LOGOUT_RES,
        PayloadType.PROTO_OA_SUBSCRIBE_LIVE_TRENDBAR_RES,
        PayloadType.PROTO_OA_UNSUBSCRIBE_LIVE_TRENDBAR_RES,
        PayloadType.PROTO_OA_MARGIN_CALL_LIST_RES,
        PayloadType.PROTO_OA_MARGIN_CALL_UPDATE_RES,
        PayloadType.PROTO_OA_REFRESH_TOKEN_RES,
        PayloadType.PROTO_OA_ORDER_LIST_RES,
        PayloadType.PROTO_OA_GET_DYNAMIC_LEVERAGE_RES,
        PayloadType.PROTO_OA_DEAL_LIST_BY_POSITION_ID_RES,
        PayloadType.PROTO_OA_ORDER_DETAILS_RES,
        PayloadType.PROTO_OA_ORDER_LIST_BY_POSITION_ID_RES,
        PayloadType.PROTO_OA_DEAL_OFFSET_LIST_RES,
        PayloadType.PROTO_OA_GET_POSITION_UNREALIZED_PNL_RES,
    }
)

# Messages the server sends on its own (heartbeats, spots, executions...).
EVENT_TYPES: frozenset[int] = frozenset(
    {
        PayloadType.HEARTBEAT_EVENT,
        PayloadType.PROTO_OA_TRAILING_SL_CHANGED_EVENT,
        PayloadType.PROTO_OA_SYMBOL_CHANGED_EVENT,
        PayloadType.PROTO_OA_TRADER_UPDATE_EVENT,
        PayloadType.PROTO_OA_EXECUTION_EVENT,
        PayloadType.PROTO_OA_SPOT_EVENT,
        PayloadType.PROTO_OA_ORDER_ERROR_EVENT,
        PayloadType.PROTO_OA_MARGIN_CHANGED_EVENT,
        PayloadType.PROTO_OA_ACCOUNTS_TOKEN_INVALIDATED_EVENT,
        PayloadType.PROTO_OA_CLIENT_DISCONNECT_EVENT,
        PayloadType.PROTO_OA_DEPTH_EVENT,
        PayloadType.PROTO_OA_ACCOUNT_DISCONNECT_EVENT,
        PayloadType.PROTO_OA_MARGIN_CALL_UPDATE_EVENT,
        PayloadType.PROTO_OA_MARGIN_CALL_TRIGGER_EVENT,
    }
)

# Requests whose ctidTraderAccountId is required: the account must be authorized first. That is
# every request but these five, which concern no single trading account.
ACCOUNT_SCOPED_REQUESTS: frozenset[int] = REQUEST_TYPES - {
    PayloadType.PROTO_OA_APPLICATION_AUTH_REQ,
    PayloadType.PROTO_OA_VERSION_REQ,
    PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ,
    PayloadType.PROTO_OA_GET_CTID_PROFILE_BY_TOKEN_REQ,
    PayloadType.PROTO_OA_REFRESH_TOKEN_REQ,
}

# Requests answered by ProtoOAExecutionEvent (2126) rather than by a response of their own
# (the .proto comment on ProtoOAExecutionEvent lists them); ProtoOAOrderErrorEvent (2132)
# reports their failure.
ORDER_REQUESTS: frozenset[int] = frozenset(
    {
        PayloadType.PROTO_OA_NEW_ORDER_REQ,
        PayloadType.PROTO_OA_CANCEL_ORDER_REQ,
        PayloadType.PROTO_OA_AMEND_ORDER_REQ,
        PayloadType.PROTO_OA_AMEND_POSITION_SLTP_REQ,
        PayloadType.PROTO_OA_CLOSE_POSITION_REQ,
    }
)


def _response_of() -> dict[int, int]:
    """Each request's answer: its namesake ``..._RES``, or the execution event for orders."""
    answers: dict[int, int] = {}
    for request in REQUEST_TYPES:
        name = PayloadType(request).name
        response = PayloadType.__members__.get(name[: -len("_REQ")] + "_RES")
        if response is not None:
            answers[request] = response
        elif request in ORDER_REQUESTS:
            answers[request] = PayloadType.PROTO_OA_EXECUTION_EVENT
    return answers


# request payload type -> the payload type that completes it (besides the error messages)
RESPONSE_OF: dict[int, int] = _response_of()

# Requests for historical data, held to the 5 requests/s budget instead of 50/s. cTrader does not
# list them; these are the ones that page through history (they answer with ``hasMore``).
HISTORICAL_REQUESTS: frozenset[int] = frozenset(
    {
        PayloadType.PROTO_OA_GET_TRENDBARS_REQ,
        PayloadType.PROTO_OA_GET_TICKDATA_REQ,
        PayloadType.PROTO_OA_DEAL_LIST_REQ,
        PayloadType.PROTO_OA_ORDER_LIST_REQ,
        PayloadType.PROTO_OA_CASH_FLOW_HISTORY_LIST_REQ,
        PayloadType.PROTO_OA_DEAL_LIST_BY_POSITION_ID_REQ,
        PayloadType.PROTO_OA_ORDER_LIST_BY_POSITION_ID_REQ,
    }
)


def message_name(payload_type: int) -> str:
    """The .proto message name for a payload type (``"ProtoOASpotEvent"``), or a placeholder."""
    return MESSAGE_NAMES.get(payload_type, f"<unknown payload type {payload_type}>")


class CommonErrorCode(enum.IntEnum):
    """ProtoErrorCode. On the wire an errorCode is the *name* as a string."""

    UNKNOWN_ERROR = 1
    UNSUPPORTED_MESSAGE = 2
    INVALID_REQUEST = 3
    TIMEOUT_ERROR = 5
    ENTITY_NOT_FOUND = 6
    CANT_ROUTE_REQUEST = 7
    FRAME_TOO_LONG = 8
    MARKET_CLOSED = 9
    CONCURRENT_MODIFICATION = 10
    BLOCKED_PAYLOAD_TYPE = 11


class OAErrorCode(enum.IntEnum):
    """ProtoOAErrorCode. On the wire an errorCode is the *name* as a string."""

    OA_AUTH_TOKEN_EXPIRED = 1
    ACCOUNT_NOT_AUTHORIZED = 2
    RET_NO_SUCH_LOGIN = 12
    ALREADY_LOGGED_IN = 14
    RET_ACCOUNT_DISABLED = 64
    CH_CLIENT_AUTH_FAILURE = 101
    CH_CLIENT_NOT_AUTHENTICATED = 102
    CH_CLIENT_ALREADY_AUTHENTICATED = 103
    CH_ACCESS_TOKEN_INVALID = 104
    CH_SERVER_NOT_REACHABLE = 105
    CH_CTID_TRADER_ACCOUNT_NOT_FOUND = 106
    CH_OA_CLIENT_NOT_FOUND = 107
    REQUEST_FREQUENCY_EXCEEDED = 108
    SERVER_IS_UNDER_MAINTENANCE = 109
    CHANNEL_IS_BLOCKED = 110
    CONNECTIONS_LIMIT_EXCEEDED = 67
    WORSE_GSL_NOT_ALLOWED = 68
    SYMBOL_HAS_HOLIDAY = 69
    NOT_SUBSCRIBED_TO_SPOTS = 112
    ALREADY_SUBSCRIBED = 113
    SYMBOL_NOT_FOUND = 114
    UNKNOWN_SYMBOL = 115
    INCORRECT_BOUNDARIES = 35
    NO_QUOTES = 117
    NOT_ENOUGH_MONEY = 118
    MAX_EXPOSURE_REACHED = 119
    POSITION_NOT_FOUND = 120
    ORDER_NOT_FOUND = 121
    POSITION_NOT_OPEN = 122
    POSITION_LOCKED = 123
    TOO_MANY_POSITIONS = 124
    TRADING_BAD_VOLUME = 125
    TRADING_BAD_STOPS = 126
    TRADING_BAD_PRICES = 127
    TRADING_BAD_STAKE = 128
    PROTECTION_IS_TOO_CLOSE_TO_MARKET = 129
    TRADING_BAD_EXPIRATION_DATE = 130
    PENDING_EXECUTION = 131
    TRADING_DISABLED = 132
    TRADING_NOT_ALLOWED = 133
    UNABLE_TO_CANCEL_ORDER = 134
    UNABLE_TO_AMEND_ORDER = 135
    SHORT_SELLING_NOT_ALLOWED = 136
    NOT_SUBSCRIBED_TO_PNL = 137


# What each error code name means, from the comments in the .proto files.
ERROR_CODE_DESCRIPTIONS: dict[str, str] = {
    "UNKNOWN_ERROR": "Generic error.",
    "UNSUPPORTED_MESSAGE": "Message is not supported. Wrong message.",
    "INVALID_REQUEST": "Generic error.  Usually used when input value is not correct.",
    "TIMEOUT_ERROR": "Deal execution is reached timeout and rejected.",
    "ENTITY_NOT_FOUND": "Generic error for requests by id.",
    "CANT_ROUTE_REQUEST": "Connection to Server is lost or not supported.",
    "FRAME_TOO_LONG": "Message is too large.",
    "MARKET_CLOSED": "Market is closed.",
    "CONCURRENT_MODIFICATION": "Order is blocked (e.g. under execution) and change cannot be applied.",
    "BLOCKED_PAYLOAD_TYPE": "Message is blocked by server or rate limit is reached.",
    "OA_AUTH_TOKEN_EXPIRED": "When token used for account authorization is expired.",
    "ACCOUNT_NOT_AUTHORIZED": "When account is not authorized.",
    "RET_NO_SUCH_LOGIN": "When such account no longer exists.",
    "ALREADY_LOGGED_IN": "When client tries to authorize after it was already authorized.",
    "RET_ACCOUNT_DISABLED": "When account is disabled.",
    "CH_CLIENT_AUTH_FAILURE": "Open API client is not activated or wrong client credentials.",
    "CH_CLIENT_NOT_AUTHENTICATED": "When a command is sent for not authorized Open API client.",
    "CH_CLIENT_ALREADY_AUTHENTICATED": "Client is trying to authenticate twice.",
    "CH_ACCESS_TOKEN_INVALID": "Access token is invalid.",
    "CH_SERVER_NOT_REACHABLE": "Trading service is not available.",
    "CH_CTID_TRADER_ACCOUNT_NOT_FOUND": "Trading account is not found.",
    "CH_OA_CLIENT_NOT_FOUND": "Could not find this client id.",
    "REQUEST_FREQUENCY_EXCEEDED": "Request frequency is reached.",
    "SERVER_IS_UNDER_MAINTENANCE": "Server is under maintenance.",
    "CHANNEL_IS_BLOCKED": "Operations are not allowed for this account.",
    "CONNECTIONS_LIMIT_EXCEEDED": "Limit of connections is reached for this Open API client.",
    "WORSE_GSL_NOT_ALLOWED": "Not allowed to increase risk for Positions with Guaranteed Stop Loss.",
    "SYMBOL_HAS_HOLIDAY": "Trading disabled because symbol has holiday.",
    "NOT_SUBSCRIBED_TO_SPOTS": "When trying to subscribe to depth, trendbars, etc. without spot subscription.",
    "ALREADY_SUBSCRIBED": "When subscription is requested for an active.",
    "SYMBOL_NOT_FOUND": "Symbol not found.",
    "UNKNOWN_SYMBOL": "Note: to be merged with SYMBOL_NOT_FOUND.",
    "INCORRECT_BOUNDARIES": "When requested period (from,to) is too large or invalid values are set to from/to.",
    "NO_QUOTES": "Trading cannot be done as not quotes are available. Applicable for Book B.",
    "NOT_ENOUGH_MONEY": "Not enough funds to allocate margin.",
    "MAX_EXPOSURE_REACHED": "Max exposure limit is reached for a {trader, symbol, side}.",
    "POSITION_NOT_FOUND": "Position not found.",
    "ORDER_NOT_FOUND": "Order not found.",
    "POSITION_NOT_OPEN": "When trying to close a position that it is not open.",
    "POSITION_LOCKED": "Position in the state that does not allow to perform an operation.",
    "TOO_MANY_POSITIONS": "Trading account reached its limit for max number of open positions and orders.",
    "TRADING_BAD_VOLUME": "Invalid volume.",
    "TRADING_BAD_STOPS": "Invalid stop price.",
    "TRADING_BAD_PRICES": "Invalid price (e.g. negative).",
    "TRADING_BAD_STAKE": "Invalid stake volume (e.g. negative).",
    "PROTECTION_IS_TOO_CLOSE_TO_MARKET": "Invalid protection prices.",
    "TRADING_BAD_EXPIRATION_DATE": "Invalid expiration.",
    "PENDING_EXECUTION": "Unable to apply changes as position has an order under execution.",
    "TRADING_DISABLED": "Trading is blocked for the symbol.",
    "TRADING_NOT_ALLOWED": "Trading account is in read only mode.",
    "UNABLE_TO_CANCEL_ORDER": "Unable to cancel order.",
    "UNABLE_TO_AMEND_ORDER": "Unable to amend order.",
    "SHORT_SELLING_NOT_ALLOWED": "Short selling is not allowed.",
    "NOT_SUBSCRIBED_TO_PNL": "This session is not subscribed via ProtoOAv1PnLChangeSubscribeReq",
}


class ExecutionType(enum.IntEnum):
    """ProtoOAExecutionType: what a ProtoOAExecutionEvent (2126) reports."""

    ORDER_ACCEPTED = 2
    ORDER_FILLED = 3
    ORDER_REPLACED = 4
    ORDER_CANCELLED = 5
    ORDER_EXPIRED = 6
    ORDER_REJECTED = 7
    ORDER_CANCEL_REJECTED = 8
    SWAP = 9
    DEPOSIT_WITHDRAW = 10
    ORDER_PARTIAL_FILL = 11
    BONUS_DEPOSIT_WITHDRAW = 12


class TrendbarPeriod(enum.IntEnum):
    """ProtoOATrendbarPeriod."""

    M1 = 1
    M2 = 2
    M3 = 3
    M4 = 4
    M5 = 5
    M10 = 6
    M15 = 7
    M30 = 8
    H1 = 9
    H4 = 10
    H12 = 11
    D1 = 12
    W1 = 13
    MN1 = 14


class TradeSide(enum.IntEnum):
    """ProtoOATradeSide: the direction of an order, position or deal."""

    BUY = 1
    SELL = 2


class OrderType(enum.IntEnum):
    """ProtoOAOrderType."""

    MARKET = 1
    LIMIT = 2
    STOP = 3
    STOP_LOSS_TAKE_PROFIT = 4
    MARKET_RANGE = 5
    STOP_LIMIT = 6
