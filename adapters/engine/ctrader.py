"""The cTrader half of the clients, without I/O: requests, outcomes, authorization, helpers.

``CTraderEngine`` authorizes the application on each new connection; after a reconnect it also
authorizes again every account that was authorized before and restores each account's
subscriptions from the registry. ``CTraderCalls`` is the one definition of the request helpers;
each adapter's client class derives from it and from the adapter's client base, which defines
``_call`` (``client_base`` says how the two halves fit).
"""

from __future__ import annotations

import enum
import ssl
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Generic, NamedTuple, TypeVar, cast

import msgspec

from brokerwire.core.ctrader import (
    ORDER_REQUESTS,
    AccountDisconnected,
    CTraderConnection,
    CTraderSubscriptionRegistry,
    ErrorResponse,
    FollowUp,
    OrderType,
    PayloadType,
    RequestFailed,
    RequestTimedOut,
    Response,
    ServerEvent,
    TokenInvalidated,
    TradeSide,
    TrendbarPeriod,
    as_int,
    message_name,
    redact,
)
from brokerwire.core.ctrader import (
    Opened as CTraderOpened,
)
from brokerwire.core.ctrader.account import CTraderAccountSnapshot
from brokerwire.core.ctrader.messages import payload_of, typed_payload
from brokerwire.core.ctrader.models import OpenApiMessage
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.orders import OrderView
from brokerwire.core.tcp import Framing

from ..endpoint import Endpoint, parse_url
from ..errors import (
    AuthenticationError,
    RequestRefused,
    Throttled,
)
from ..reconnect import ReconnectPolicy, told_wait
from ..secrets import Secret, without_secrets
from .client_base import ClientBase, ClientOptions
from .client_engine import EventCallback, OnFull, OnReceived, Phase, log, unanswered
from .ctrader_state import CTraderTracking, new_client_order_id
from .ctrader_state import transient as _transient
from .login import TokenSource, token_text
from .retrying import RetryingEngine
from .tracking import HandleSink, track_order

__all__ = ["CTraderCall", "CTraderCalls", "CTraderEngine"]

_ACCOUNT_AUTH = PayloadType.PROTO_OA_ACCOUNT_AUTH_REQ


def _describe(event: Any) -> str:
    return f"{event.error_code}: {event.description}".strip(": ")


class CTraderCall(NamedTuple):
    """A request before it goes out. ``transform`` turns the answer's payload into the
    caller's result (by default: the payload, without credentials)."""

    payload_type: int
    payload: Mapping[str, Any] | None = None
    timeout: float | None = None
    response_type: int | None = None
    transform: Callable[[dict[str, Any]], Any] | None = None
    #: Given as a typed message: the answer comes back as its Struct.
    typed: bool = False

    def __repr__(self) -> str:
        return f"CTraderCall({self.name}, payload={redact(dict(self.payload or {}))!r})"

    @property
    def name(self) -> str:
        return message_name(self.payload_type)

    @property
    def is_order(self) -> bool:
        return self.payload_type in ORDER_REQUESTS

    @property
    def sent_body(self) -> Any:
        return redact(dict(self.payload or {}))


def _typed_answer(payload_type: int, payload: dict[str, Any]) -> Any:
    """An answer as its Struct, credentials redacted; as decoded when it does not fit."""
    shown = without_secrets(payload)
    try:
        typed = typed_payload(payload_type, shown)
    except ValueError:
        return shown
    return shown if typed is None else typed


def _helper_call(
    payload_type: int, payload: Mapping[str, Any], timeout: float | None
) -> CTraderCall:
    """A helper's request: its answer comes back as its typed Struct."""
    return CTraderCall(payload_type, payload, timeout, typed=True)


def _call_of(
    payload_type: int | OpenApiMessage,
    payload: Mapping[str, Any] | None,
    timeout: float | None,
    response_type: int | None,
) -> CTraderCall:
    """The call for a request given as a payload type and payload, or as a typed message."""
    if not isinstance(payload_type, msgspec.Struct):
        return CTraderCall(payload_type, payload, timeout, response_type)
    if payload is not None:
        raise LocalProtocolError("give a typed message alone, or a payload type and its payload")
    request_type, body = payload_of(payload_type)
    return CTraderCall(request_type, body, timeout, response_type, typed=True)


class CTraderEngine(RetryingEngine[CTraderConnection, CTraderCall]):
    outcome_types = frozenset({Response, ErrorResponse, RequestTimedOut, RequestFailed})
    opened_type = CTraderOpened
    failed_type = RequestFailed
    watched_types = frozenset({TokenInvalidated, AccountDisconnected, FollowUp, ServerEvent})

    def request_id_of(self, outcome: Any) -> str:
        client_msg_id: str = outcome.client_msg_id
        return client_msg_id

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        client_id: str | None,
        client_secret: str | None,
        access_token: str | TokenSource | None,
        reconnect: ReconnectPolicy | None,
        framing: Framing = Framing.LENGTH_PREFIX,
        registry: CTraderSubscriptionRegistry | None = None,
        connection_options: Mapping[str, Any] | None = None,
        track_state: bool = False,
    ) -> None:
        super().__init__(endpoint, reconnect=reconnect)
        #: The account states and order handles (``track_state``).
        self.tracking = CTraderTracking(self) if track_state else None
        self.client_id = client_id
        self.client_secret = client_secret
        #: A login the access token comes from; each of its renewals re-authorizes the accounts.
        self.login = access_token if isinstance(access_token, TokenSource) else None
        self.access_token = access_token if isinstance(access_token, str) else None
        self._from_login: set[str] = set()  # the login's tokens, old and new
        self._expecting_invalidation: set[int] = set()  # given the new token, not yet ended
        self._awaiting_token: set[int] = set()  # ended by cTrader before the new token came
        self.framing = framing
        self.registry = registry if registry is not None else CTraderSubscriptionRegistry()
        self._options = dict(connection_options or {})
        self._accounts: dict[int, str] = {}  # authorized accounts and their tokens
        self._restoring: set[int] = set()
        self._reauthorizing: set[int] = set()  # disconnected accounts being authorized again
        self._resubscribed = 0

    @property
    def accounts(self) -> list[int]:
        """The accounts authorized through this client (restored after a reconnect)."""
        return list(self._accounts)

    def make_connection(self) -> CTraderConnection:
        self._reauthorizing.clear()
        self._expecting_invalidation.clear()
        self._awaiting_token.clear()
        if self.endpoint.transport == "ws":
            return CTraderConnection.websocket(
                self.endpoint.host_header,
                target=self.endpoint.target,
                registry=self.registry,
                **self._options,
            )
        return CTraderConnection.tcp(framing=self.framing, registry=self.registry, **self._options)

    def on_open(self, now: float) -> None:
        if self.login is not None:
            try:
                self.current_token()
            except AuthenticationError as exc:  # the login's token expired: say so
                self.refused(exc, now)
                return
        if self.client_id is None or self.client_secret is None:
            self.authorized(0)
            return
        self._authorize_application(now)

    def _authorize_application(self, now: float) -> None:
        assert self.conn is not None
        if self.client_id is not None and self.client_secret is not None:
            request_id = self.conn.authorize_application(
                self.client_id, self.client_secret, now=now
            )
            self.wait_internal(request_id, self._application_answered)

    def _application_answered(self, event: Any, now: float) -> None:
        assert self.conn is not None
        if type(event) is Response:
            self._restoring = set(self._accounts)
            self._resubscribed = 0
            if not self._restoring:
                self.authorized(0)
            for account in list(self._accounts):
                self._authorize_account(account, self._account_answered, now)
        elif _transient(event):
            what = f"cTrader answered the application auth with {_describe(event)}"
            self.retry_later(
                "application", event.retry_after, now, self._authorize_application, what
            )
        elif type(event) is ErrorResponse:
            message = _describe(event)
            self.refused(AuthenticationError(f"cTrader refused the application: {message}"), now)
        else:
            log.info("application auth got no answer in time; dropping the connection")
            self.close_core(now)

    def _authorize_account(
        self, account: int, answered: Callable[[int, Any, float], None], now: float
    ) -> None:
        """Authorize a remembered account again; ``answered(account, event, now)`` follows."""
        token = self._accounts.get(account)
        if token is None or self.conn is None:
            # Forgotten while a retry waited (its token was invalidated): nothing to restore.
            self._reauthorizing.discard(account)
            if account in self._restoring:
                self._restoring.discard(account)
                if not self._restoring:
                    self.authorized(self._resubscribed)
            return
        request_id = self.conn.authorize_account(account, token, now=now)
        self.wait_internal(request_id, partial(answered, account))

    def _retry_account(
        self,
        account: int,
        event: Any,
        now: float,
        answered: Callable[[int, Any, float], None],
    ) -> None:
        what = f"cTrader answered the auth of account {account} with {_describe(event)}"
        again = partial(self._authorize_account, account, answered)
        self.retry_later(("account", account), event.retry_after, now, again, what)

    def _account_answered(self, account: int, event: Any, now: float) -> None:
        if _transient(event):
            self._retry_account(account, event, now, self._account_answered)
            return
        self._account_reauthorized(account, event, now)
        self._restoring.discard(account)
        if not self._restoring:
            self.authorized(self._resubscribed)

    def _resubscribe_answered(self, event: Any, now: float) -> None:
        if type(event) is not Response:
            log.warning("a subscription could not be restored: %r", event)
            self.emit(event)

    def withdraw(self, request_id: Any) -> bool:
        return self.conn is not None and self.conn.cancel(request_id)

    def link_lost(self) -> None:
        if self.tracking is not None:
            self.tracking.lost()

    def finish(self, reason: str) -> list[Any]:
        out = super().finish(reason)
        if self.tracking is not None:
            self.tracking.closed()
        return out

    def track_order(
        self, call: CTraderCall, make_handle: Callable[[OrderView], HandleSink], now: float
    ) -> HandleSink:
        """Send a new-order ``call`` and return the handle ``make_handle`` makes for it."""
        return track_order(self.phase, self.tracking, call, make_handle, now)

    def state_snapshot(self) -> Mapping[int, CTraderAccountSnapshot]:
        if self.tracking is None:
            raise LocalProtocolError("account state needs the client made with track_state=True")
        return self.tracking.snapshot()

    def observe(self, event: Any, now: float) -> None:
        kind = type(event)
        if kind is FollowUp or kind is ServerEvent:
            if self.tracking is not None:
                self.tracking.observe(event)
            return
        if kind is TokenInvalidated and self.login is not None:
            self._invalidated_by_renewal(event.account_ids, now)
            return
        if type(event) is TokenInvalidated:
            for account in event.account_ids:
                self._accounts.pop(account, None)
            return
        # ProtoOAAccountDisconnectEvent: the server ended the account's session, but its token
        # still holds. Authorize it again and restore its subscriptions, as after a reconnect;
        # once per account however many such events come before the answer.
        account = event.account_id
        if self.tracking is not None and account is not None:
            self.tracking.account_lost(account)
        token = self._accounts.get(account)
        if (
            token is None
            or self.conn is None
            or self.phase is not Phase.READY
            or account in self._reauthorizing
        ):
            return
        log.info("account %s was disconnected by the server; authorizing it again", account)
        self._reauthorizing.add(account)
        self._authorize_account(account, self._disconnected_account_answered, now)

    def current_token(self) -> str | None:
        """The access token for account requests: the login's current one, or the one given."""
        if self.login is None:
            return self.access_token
        token = token_text(self.login)
        self._from_login.add(token)
        return token

    def token_renewed(self, token: str, now: float) -> list[Any]:
        """A login's new access token. cTrader ends the sessions of accounts on the old one
        (``TokenInvalidated``): each is authorized again with the new token, and its
        subscriptions restored, once it has ended (at once when it already has)."""
        self._out = []
        self._guarded(self._adopt_login_token, token, now)
        return self._out

    def _adopt_login_token(self, token: str, now: float) -> None:
        self._from_login.add(token)
        for account, held in self._accounts.items():
            if held != token and held in self._from_login:
                self._accounts[account] = token
                self._expecting_invalidation.add(account)
        waiting, self._awaiting_token = self._awaiting_token, set()
        for account in sorted(waiting):
            self._expecting_invalidation.discard(account)
            self._authorize_again(account, now)

    def _invalidated_by_renewal(self, accounts: Sequence[int], now: float) -> None:
        for account in accounts:
            held = self._accounts.get(account)
            if held is None:
                continue
            if account in self._expecting_invalidation:
                self._expecting_invalidation.discard(account)
                self._authorize_again(account, now)
            elif held in self._from_login:
                self._awaiting_token.add(account)  # the new token is on its way
            else:
                self._accounts.pop(account, None)

    def _authorize_again(self, account: int, now: float) -> None:
        if self.conn is None or self.phase is not Phase.READY or account in self._reauthorizing:
            return  # a reconnect authorizes every remembered account with its token
        log.info("authorizing account %s again with the renewed token", account)
        self._reauthorizing.add(account)
        sent = self._accounts.get(account)
        self._authorize_account(account, partial(self._renewed_account_answered, sent), now)

    def _renewed_account_answered(
        self, sent: str | None, account: int, event: Any, now: float
    ) -> None:
        """As after a disconnect; but a refusal of a token renewed again meanwhile is tried
        once more with the newest one."""
        held = self._accounts.get(account)
        if type(event) is ErrorResponse and not _transient(event) and held not in (None, sent):
            self._reauthorizing.discard(account)
            self._authorize_again(account, now)
            return
        self._disconnected_account_answered(account, event, now)

    def _disconnected_account_answered(self, account: int, event: Any, now: float) -> None:
        if _transient(event):
            self._retry_account(account, event, now, self._disconnected_account_answered)
            return
        self._reauthorizing.discard(account)
        self._account_reauthorized(account, event, now)

    def _account_reauthorized(self, account: int, event: Any, now: float) -> None:
        """The answer to authorizing ``account`` again: restore its subscriptions (counted in
        ``_resubscribed`` for this link), or forget it and pass the refusal on. An answer lost
        to the link going down refuses nothing: the reconnect authorizes the account again; nor
        does a yes to an account that another disconnect ended in the same read."""
        if type(event) is RequestFailed:
            return
        assert self.conn is not None
        if type(event) is Response and account not in self.conn.authorized_accounts:
            # Authorized, then ended again by an event read with this answer (the core has
            # read it, the engine not yet): that event, acted on next, authorizes it again.
            log.info("account %s was disconnected again as its authorization came", account)
            return
        if account not in self.conn.authorized_accounts:
            log.warning("account %s could not be authorized again: %r", account, event)
            self._accounts.pop(account, None)
            self.emit(event)
            return
        replayed = self.conn.replay_subscriptions(account, now=now)
        for request_id in replayed:
            self.wait_internal(request_id, self._resubscribe_answered)
        self._resubscribed += len(replayed)
        if self.tracking is not None:
            self.tracking.take_snapshot(account, now)

    def send(self, call: CTraderCall, now: float) -> str:
        assert self.conn is not None
        return self.conn.request(
            call.payload_type,
            call.payload,
            timeout=call.timeout,
            response_type=call.response_type,
            now=now,
        )

    def was_sent(self, failed: Any) -> bool:
        return bool(failed.sent)

    def result(self, call: CTraderCall, event: Any) -> Any:
        kind = type(event)
        request_id = event.client_msg_id
        if self.tracking is not None and (kind is Response or kind is ErrorResponse):
            self.tracking.observe(event)
        if kind is Response:
            if call.payload_type == _ACCOUNT_AUTH:
                self._remember_account(call)
            if call.transform is not None:
                return call.transform(event.payload)
            if call.typed:
                return _typed_answer(event.payload_type, event.payload)
            return without_secrets(event.payload)
        if kind is ErrorResponse:
            if call.payload_type == _ACCOUNT_AUTH and event.error_code == "ALREADY_LOGGED_IN":
                self._remember_account(call)
            if event.retry_after is not None:
                raise Throttled(
                    event.description or event.error_code,
                    request=call.name,
                    request_id=request_id,
                    retry_after=told_wait(event.retry_after, 0.0),
                    event=event,
                )
            raise RequestRefused(
                event.description or event.error_code,
                request=call.name,
                request_id=request_id,
                code=event.error_code,
                event=event,
            )
        raise unanswered(
            call, event, request_id, timed_out=kind is RequestTimedOut, outcome_unknown=event.sent
        )

    def adopt_refreshed_token(self, payload: dict[str, Any]) -> dict[str, Any]:
        """ProtoOARefreshTokenRes: the new access token becomes the client's default (sessions
        on the old one end with ProtoOAAccountsTokenInvalidatedEvent); the caller gets both new
        tokens as ``Secret`` values, which print as ``<redacted>``."""
        result = dict(without_secrets(payload))
        for field in ("accessToken", "refreshToken"):
            value = payload.get(field)
            if isinstance(value, str):
                result[field] = Secret(value)
        access = payload.get("accessToken")
        if isinstance(access, str) and access:
            self.access_token = access
        return result

    def _remember_account(self, call: CTraderCall) -> None:
        payload = call.payload or {}
        account = as_int(payload.get("ctidTraderAccountId"))
        token = payload.get("accessToken")
        if account is not None and isinstance(token, str):
            self._accounts[account] = token
            if self.tracking is not None:
                self.tracking.take_snapshot(account, None)


R = TypeVar("R")
F = TypeVar("F")
E = TypeVar("E", bound=enum.Enum)


def _member(enum_class: type[E], value: E | str | int) -> int:
    """An enum value from a member, its name ("BUY", case-blind) or its number."""
    if isinstance(value, str):
        try:
            member = enum_class[value.upper()]
        except KeyError:
            names = ", ".join(enum_class.__members__)
            raise ValueError(
                f"unknown {enum_class.__name__} {value!r}: use one of {names}"
            ) from None
        return int(member.value)
    return int(enum_class(value).value)


def _symbol_list(symbol_ids: int | Sequence[int]) -> list[int]:
    return [symbol_ids] if isinstance(symbol_ids, int) else list(symbol_ids)


def _new_order_payload(
    account_id: int,
    symbol_id: int,
    trade_side: TradeSide | str | int,
    volume: int,
    *,
    order_type: OrderType | str | int,
    optional: Mapping[str, Any],
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ctidTraderAccountId": account_id,
        "symbolId": symbol_id,
        "orderType": _member(OrderType, order_type),
        "tradeSide": _member(TradeSide, trade_side),
        "volume": volume,
    }
    payload.update({key: value for key, value in optional.items() if value is not None})
    return payload


class CTraderCalls(ClientBase[CTraderEngine], Generic[R, F]):
    """A cTrader client's construction and its requests, named after what they do.

    Every named helper gives the answer as its typed Struct (``TraderRes``, ``ReconcileRes``,
    an order's first ``ExecutionEvent`` ...), credentials redacted; ``request`` with a payload
    type and a dict gives the payload as decoded JSON. ``R`` is what a call gives: the result
    itself (threaded) or a coroutine that returns it (asyncio); ``F`` is the future
    ``request_async`` gives. The adapter's half of the client defines ``_call`` and ``_submit``
    (see ``ClientBase``).
    """

    _engine: CTraderEngine

    def _ask(self, call: CTraderCall) -> R:
        """``call`` handed to the adapter's ``_call``, typed as this adapter's results."""
        return cast("R", self._call(call))

    def _ask_later(self, call: CTraderCall) -> F:
        """``call`` handed to the adapter's ``_submit``, typed as this adapter's futures."""
        return cast("F", self._submit(call))

    def __init__(
        self,
        url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        access_token: str | TokenSource | None = None,
        framing: Framing = Framing.LENGTH_PREFIX,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        reconnect: bool | ReconnectPolicy = True,
        on_event: EventCallback | None = None,
        max_queued_events: int = 10_000,
        max_queued_bytes: int = 64 * 1024 * 1024,
        on_full: OnFull = "conflate",
        on_received: OnReceived | None = None,
        registry: CTraderSubscriptionRegistry | None = None,
        track_state: bool = False,
        **connection_options: Any,
    ) -> None:
        """``url``: ``wss://demo.ctraderapi.com:5036`` (WebSocket),
        ``tls://demo.ctraderapi.com:5036`` (raw TCP over TLS; ``framing`` picks the length
        prefix or concatenated JSON), or ``ws://``/``tcp://`` for local simulators. With
        ``client_id`` and ``client_secret`` the application is authorized on every
        connection; ``access_token`` is the default for account requests: a token, or a
        ``CTraderLogin``, whose every refresh authorizes the accounts again. Accounts authorized
        through the client are authorized again, and their subscriptions restored, after a
        reconnect. The other options are as for ``TradovateClient``; ``connection_options`` go
        to the core ``CTraderConnection`` (``heartbeat_interval``, ``watchdog_timeout``,
        ``request_timeout``, ``requests_per_second`` ...). ``track_state=True`` keeps each
        authorized account's state: a snapshot (trader, reconcile) on every authorization,
        execution, order-error, margin and trader events applied, change events in the
        stream, ``account_state()``, and order handles from ``new_order_tracked``.
        """
        endpoint = parse_url(url, schemes=frozenset({"ws", "wss", "tcp", "tls"}))
        engine = CTraderEngine(
            endpoint,
            client_id=client_id,
            client_secret=client_secret,
            access_token=access_token,
            reconnect=ReconnectPolicy.from_option(reconnect),
            framing=framing,
            registry=registry,
            connection_options=connection_options,
            track_state=track_state,
        )
        self._start(
            engine,
            ClientOptions(
                ssl_context,
                connect_timeout,
                on_event,
                max_queued_events,
                max_queued_bytes,
                on_full,
                on_received,
            ),
        )
        self._watch_login(access_token)

    @property
    def registry(self) -> CTraderSubscriptionRegistry:
        """The live subscriptions, restored after each reconnect."""
        return self._engine.registry

    @property
    def accounts(self) -> list[int]:
        """The accounts authorized through this client."""
        return self._engine.accounts

    def _token(self, access_token: str | None) -> str:
        token = access_token if access_token is not None else self._engine.current_token()
        if not token:
            raise LocalProtocolError("no access token: pass one, or give the client access_token")
        return token

    def request(
        self,
        payload_type: int | OpenApiMessage,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        response_type: int | None = None,
    ) -> R:
        """Any request; the result is the payload of the message that completes it.

        Given a typed message (``request(NewOrderReq(...))``), the result is typed too: the
        answer's Struct (the ``..._RES``, or an order's first ``ExecutionEvent``). The message
        is checked first: a field of the wrong type raises ``LocalProtocolError`` at once.
        """
        return self._ask(_call_of(payload_type, payload, timeout, response_type))

    def request_async(
        self,
        payload_type: int | OpenApiMessage,
        payload: Mapping[str, Any] | None = None,
        *,
        timeout: float | None = None,
        response_type: int | None = None,
    ) -> F:
        """Send now, take the outcome later: a future of what ``request(...)`` gives (or of
        its RequestError)."""
        return self._ask_later(_call_of(payload_type, payload, timeout, response_type))

    def authorize_application(self, *, timeout: float | None = None) -> R:
        """ProtoOAApplicationAuthReq with the client's id and secret (``connect`` does this
        when both were given)."""
        engine = self._engine
        if engine.client_id is None or engine.client_secret is None:
            raise LocalProtocolError("the client was given no client_id and client_secret")
        payload = {"clientId": engine.client_id, "clientSecret": engine.client_secret}
        return self._ask(_helper_call(PayloadType.PROTO_OA_APPLICATION_AUTH_REQ, payload, timeout))

    def authorize_account(
        self, account_id: int, access_token: str | None = None, *, timeout: float | None = None
    ) -> R:
        """ProtoOAAccountAuthReq; the account is authorized again after every reconnect."""
        payload = {"ctidTraderAccountId": account_id, "accessToken": self._token(access_token)}
        return self._ask(_helper_call(_ACCOUNT_AUTH, payload, timeout))

    def get_accounts(self, access_token: str | None = None, *, timeout: float | None = None) -> R:
        """The trading accounts the access token may use (``ctidTraderAccount``)."""
        payload = {"accessToken": self._token(access_token)}
        return self._ask(
            _helper_call(PayloadType.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ, payload, timeout)
        )

    def get_symbols(self, account_id: int, *, timeout: float | None = None) -> R:
        """The account's symbols (``symbol``: ids and names)."""
        payload = {"ctidTraderAccountId": account_id}
        return self._ask(_helper_call(PayloadType.PROTO_OA_SYMBOLS_LIST_REQ, payload, timeout))

    def subscribe_spots(
        self,
        account_id: int,
        symbol_ids: int | Sequence[int],
        *,
        spot_timestamps: bool = False,
        timeout: float | None = None,
    ) -> R:
        """Stream bid/ask as ``SpotEvent`` events; restored after a reconnect."""
        payload: dict[str, Any] = {
            "ctidTraderAccountId": account_id,
            "symbolId": _symbol_list(symbol_ids),
        }
        if spot_timestamps:
            payload["subscribeToSpotTimestamp"] = True
        return self._ask(_helper_call(PayloadType.PROTO_OA_SUBSCRIBE_SPOTS_REQ, payload, timeout))

    def unsubscribe_spots(
        self, account_id: int, symbol_ids: int | Sequence[int], *, timeout: float | None = None
    ) -> R:
        payload = {"ctidTraderAccountId": account_id, "symbolId": _symbol_list(symbol_ids)}
        return self._ask(_helper_call(PayloadType.PROTO_OA_UNSUBSCRIBE_SPOTS_REQ, payload, timeout))

    def new_order(
        self,
        account_id: int,
        symbol_id: int,
        trade_side: TradeSide | str | int,
        volume: int,
        *,
        order_type: OrderType | str | int = OrderType.MARKET,
        limit_price: float | None = None,
        stop_price: float | None = None,
        label: str | None = None,
        comment: str | None = None,
        client_order_id: str | None = None,
        timeout: float | None = None,
    ) -> R:
        """ProtoOANewOrderReq; ``volume`` in cents of a unit (``units.to_raw_volume``). The
        result is the first execution event (ORDER_ACCEPTED, or the fill); later ones arrive as
        ``FollowUp`` events. Never sent twice: after a lost link the outcome is reported
        unknown."""
        payload = _new_order_payload(
            account_id,
            symbol_id,
            trade_side,
            volume,
            order_type=order_type,
            optional={
                "limitPrice": limit_price,
                "stopPrice": stop_price,
                "label": label,
                "comment": comment,
                "clientOrderId": client_order_id,
            },
        )
        return self._ask(_helper_call(PayloadType.PROTO_OA_NEW_ORDER_REQ, payload, timeout))

    def new_order_tracked(
        self,
        account_id: int,
        symbol_id: int,
        trade_side: TradeSide | str | int,
        volume: int,
        *,
        order_type: OrderType | str | int = OrderType.MARKET,
        limit_price: float | None = None,
        stop_price: float | None = None,
        label: str | None = None,
        comment: str | None = None,
        client_order_id: str | None = None,
        timeout: float | None = None,
    ) -> Any:
        """``new_order``, sent at once, returning an order handle that follows the order to its
        final state (``track_state`` clients only; see ``adapters.order_handles``). Without a
        ``client_order_id`` the client makes one: it finds the order after a lost answer. Not
        connected, it raises ``ConnectionLost`` and sends nothing; the handle never raises."""
        payload = _new_order_payload(
            account_id,
            symbol_id,
            trade_side,
            volume,
            order_type=order_type,
            optional={
                "limitPrice": limit_price,
                "stopPrice": stop_price,
                "label": label,
                "comment": comment,
                "clientOrderId": client_order_id or new_client_order_id(),
            },
        )
        return self._track_order(_helper_call(PayloadType.PROTO_OA_NEW_ORDER_REQ, payload, timeout))

    def account_state(self) -> Mapping[int, CTraderAccountSnapshot]:
        """Each synced account's balance, positions and pending orders now, by account id, as
        frozen values (``track_state`` clients only)."""
        return cast(
            "Mapping[int, CTraderAccountSnapshot]", self._read_state(self._engine.state_snapshot)
        )

    def get_trendbars(
        self,
        account_id: int,
        symbol_id: int,
        period: TrendbarPeriod | str | int,
        from_timestamp: int,
        to_timestamp: int,
        *,
        count: int | None = None,
        timeout: float | None = None,
    ) -> R:
        """Historical bars between two times in epoch milliseconds (``trendbar``; decode each
        with ``units.decode_trendbar``). Counts against the 5-per-second historical budget."""
        payload: dict[str, Any] = {
            "ctidTraderAccountId": account_id,
            "symbolId": symbol_id,
            "period": _member(TrendbarPeriod, period),
            "fromTimestamp": from_timestamp,
            "toTimestamp": to_timestamp,
        }
        if count is not None:
            payload["count"] = count
        return self._ask(_helper_call(PayloadType.PROTO_OA_GET_TRENDBARS_REQ, payload, timeout))

    def get_trader(self, account_id: int, *, timeout: float | None = None) -> R:
        """ProtoOATraderReq: the account's balance, leverage and settings (``trader``)."""
        payload = {"ctidTraderAccountId": account_id}
        return self._ask(_helper_call(PayloadType.PROTO_OA_TRADER_REQ, payload, timeout))

    def reconcile(
        self,
        account_id: int,
        *,
        return_protection_orders: bool = False,
        timeout: float | None = None,
    ) -> R:
        """ProtoOAReconcileReq: the open positions (``position``) and pending orders
        (``order``) now, as after a reconnect to learn what happened meanwhile."""
        payload: dict[str, Any] = {"ctidTraderAccountId": account_id}
        if return_protection_orders:
            payload["returnProtectionOrders"] = True
        return self._ask(_helper_call(PayloadType.PROTO_OA_RECONCILE_REQ, payload, timeout))

    def get_symbols_by_id(
        self, account_id: int, symbol_ids: int | Sequence[int], *, timeout: float | None = None
    ) -> R:
        """ProtoOASymbolByIdReq: the full symbols (``symbol``: digits, pip position, volumes)."""
        payload = {"ctidTraderAccountId": account_id, "symbolId": _symbol_list(symbol_ids)}
        return self._ask(_helper_call(PayloadType.PROTO_OA_SYMBOL_BY_ID_REQ, payload, timeout))

    def get_deals(
        self,
        account_id: int,
        from_timestamp: int,
        to_timestamp: int,
        *,
        max_rows: int | None = None,
        timeout: float | None = None,
    ) -> R:
        """ProtoOADealListReq: the executions between two times in epoch milliseconds
        (``deal``, ``hasMore``). Counts against the historical budget."""
        payload: dict[str, Any] = {
            "ctidTraderAccountId": account_id,
            "fromTimestamp": from_timestamp,
            "toTimestamp": to_timestamp,
        }
        if max_rows is not None:
            payload["maxRows"] = max_rows
        return self._ask(_helper_call(PayloadType.PROTO_OA_DEAL_LIST_REQ, payload, timeout))

    def get_orders(
        self,
        account_id: int,
        from_timestamp: int,
        to_timestamp: int,
        *,
        timeout: float | None = None,
    ) -> R:
        """ProtoOAOrderListReq: the orders between two times in epoch milliseconds (``order``,
        ``hasMore``). Counts against the historical budget."""
        payload = {
            "ctidTraderAccountId": account_id,
            "fromTimestamp": from_timestamp,
            "toTimestamp": to_timestamp,
        }
        return self._ask(_helper_call(PayloadType.PROTO_OA_ORDER_LIST_REQ, payload, timeout))

    def cancel_order(self, account_id: int, order_id: int, *, timeout: float | None = None) -> R:
        """ProtoOACancelOrderReq for a pending order; the result is the ORDER_CANCELLED
        execution event. Never sent twice: after a lost link the outcome is reported unknown."""
        payload = {"ctidTraderAccountId": account_id, "orderId": order_id}
        return self._ask(_helper_call(PayloadType.PROTO_OA_CANCEL_ORDER_REQ, payload, timeout))

    def amend_order(
        self,
        account_id: int,
        order_id: int,
        *,
        volume: int | None = None,
        limit_price: float | None = None,
        stop_price: float | None = None,
        stop_loss: float | None = None,
        take_profit: float | None = None,
        expiration_timestamp: int | None = None,
        timeout: float | None = None,
    ) -> R:
        """ProtoOAAmendOrderReq: change a pending order; the result is the ORDER_REPLACED
        execution event. Never sent twice: after a lost link the outcome is reported unknown."""
        payload: dict[str, Any] = {"ctidTraderAccountId": account_id, "orderId": order_id}
        optional = {
            "volume": volume,
            "limitPrice": limit_price,
            "stopPrice": stop_price,
            "stopLoss": stop_loss,
            "takeProfit": take_profit,
            "expirationTimestamp": expiration_timestamp,
        }
        payload.update({key: value for key, value in optional.items() if value is not None})
        return self._ask(_helper_call(PayloadType.PROTO_OA_AMEND_ORDER_REQ, payload, timeout))

    def close_position(
        self, account_id: int, position_id: int, volume: int, *, timeout: float | None = None
    ) -> R:
        """ProtoOAClosePositionReq for ``volume`` (in cents of a unit) of a position; the
        result is the first execution event of the closing order, its fill a ``FollowUp``.
        Never sent twice: after a lost link the outcome is reported unknown."""
        payload = {"ctidTraderAccountId": account_id, "positionId": position_id, "volume": volume}
        return self._ask(_helper_call(PayloadType.PROTO_OA_CLOSE_POSITION_REQ, payload, timeout))

    def refresh_token(self, refresh_token: str, *, timeout: float | None = None) -> R:
        """ProtoOARefreshTokenReq. The new access token becomes the client's default for
        account requests; the result's ``accessToken`` and ``refreshToken`` are ``Secret``
        values (``.reveal()`` gives the token; they print as ``<redacted>``). Store the new
        refresh token: the old one no longer works."""
        if not isinstance(refresh_token, str) or not refresh_token:
            raise LocalProtocolError("refresh_token needs the refresh token as a non-empty string")
        return self._ask(
            CTraderCall(
                PayloadType.PROTO_OA_REFRESH_TOKEN_REQ,
                {"refreshToken": refresh_token},
                timeout,
                None,
                self._engine.adopt_refreshed_token,
            )
        )
