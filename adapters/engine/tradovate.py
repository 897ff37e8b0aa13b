"""The Tradovate half of the clients, without I/O: requests, outcomes, authorization, helpers.

``TradovateEngine`` authorizes each new connection with the token and sends the registry's
subscriptions again after a reconnect. ``TradovateCalls`` is the one definition of the request
helpers; each adapter's client class derives from it and from the adapter's client base, which
defines ``_call`` (``client_base`` says how the two halves fit).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Generic, NamedTuple, TypeVar, cast

import msgspec

from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.orders import OrderView
from brokerwire.core.tradovate import (
    Chart,
    EntityChanged,
    ErrorResponse,
    Opened,
    Penalty,
    RateLimited,
    RequestFailed,
    RequestTimedOut,
    Response,
    SubscriptionRegistry,
    TradovateConnection,
)
from brokerwire.core.tradovate.account import TradovateStateSnapshot
from brokerwire.core.tradovate.bodies import body_of, typed_answer
from brokerwire.core.tradovate.codec import Body, Query
from brokerwire.core.tradovate.requests import (
    CancelOrder,
    ChangeSpeed,
    CheckReplaySession,
    GetChart,
    InitializeClock,
    InterruptOrderStrategy,
    LiquidatePosition,
    ModifyOrder,
    ModifyOrderStrategy,
    PlaceOrder,
    StartOrderStrategy,
)
from brokerwire.core.tradovate.rules import (
    Refusal,
    error_text_refusal,
    is_authorize,
    order_refusal,
    places_orders,
)

from ..endpoint import Endpoint, parse_url
from ..errors import (
    AuthenticationError,
    RequestRefused,
    Throttled,
)
from ..reconnect import ReconnectPolicy, told_wait
from ..secrets import without_secrets
from .chart_capture import ChartCapture
from .client_base import ClientBase, ClientOptions
from .client_engine import EventCallback, OnFull, OnReceived, log, unanswered
from .login import TokenSource, token_text
from .retrying import RetryingEngine
from .tracking import HandleSink, track_order
from .tradovate_state import TradovateTracking

__all__ = ["TradovateCall", "TradovateCalls", "TradovateEngine"]


class TradovateCall(NamedTuple):
    """A request before it goes out. ``check`` reads a 2xx answer that may still have refused
    (``core.tradovate.rules``)."""

    endpoint: str
    query: Query = None
    body: Body = None
    timeout: float | None = None
    check: Callable[[Any], Refusal | None] | None = None
    #: Told a 2xx answer inside the client, before any event that follows it is delivered.
    on_answer: Callable[[Any], None] | None = None
    #: Given a typed body: the answer comes back as its Struct (``core.tradovate.bodies``).
    typed: bool = False

    def __repr__(self) -> str:
        return f"TradovateCall({self.endpoint!r})"  # bodies may hold a token

    @property
    def name(self) -> str:
        return self.endpoint

    @property
    def is_order(self) -> bool:
        return places_orders(self.endpoint)

    @property
    def sent_body(self) -> Any:
        return self.body


def _refused(
    call: TradovateCall, event: Response | ErrorResponse, message: str, code: str | None
) -> RequestRefused:
    """The exception for an answer that refused ``call``, with its HTTP-like status."""
    return RequestRefused(
        message,
        request=call.name,
        request_id=event.request_id,
        status=event.status,
        code=code,
        event=event,
    )


def _add_prices(
    body: dict[str, Any], price: float | None, stop_price: float | None, time_in_force: str | None
) -> None:
    """An order body's optional fields, those given."""
    if price is not None:
        body["price"] = price
    if stop_price is not None:
        body["stopPrice"] = stop_price
    if time_in_force is not None:
        body["timeInForce"] = time_in_force


def _call_of(
    endpoint: str,
    query: Query,
    body: Body | msgspec.Struct,
    timeout: float | None,
    check: Callable[[Any], Refusal | None] | None = None,
) -> TradovateCall:
    """The call for a body given as a mapping, or as a typed request (checked here, before
    anything is sent, and answered typed)."""
    if not isinstance(body, msgspec.Struct):
        return TradovateCall(endpoint, query, body, timeout, check)
    return TradovateCall(endpoint, query, body_of(endpoint, body), timeout, check, typed=True)


def _alone(request: msgspec.Struct, **fields: Any) -> None:
    """A typed request carries every field: refuse field arguments given beside it."""
    given = sorted(name for name, value in fields.items() if value is not None)
    if given:
        raise LocalProtocolError(
            f"give a {type(request).__name__} alone, without {', '.join(given)}"
        )


def _required(helper: str, **fields: Any) -> None:
    """Without a typed request, the fields the request cannot go without must be given."""
    missing = sorted(name for name, value in fields.items() if value is None)
    if missing:
        raise TypeError(f"{helper}() needs {', '.join(missing)} (or a typed request)")


def _place_call(
    request: PlaceOrder | None,
    *,
    account_spec: str | None,
    account_id: int | None,
    symbol: str | int | None,
    action: str | None,
    order_qty: int | None,
    order_type: str,
    price: float | None,
    stop_price: float | None,
    time_in_force: str | None,
    is_automated: bool,
    timeout: float | None,
) -> TradovateCall:
    """The ``order/placeorder`` call of ``place_order``'s arguments."""
    if request is not None:
        _alone(request, account_spec=account_spec, account_id=account_id, symbol=symbol)
        _alone(request, action=action, order_qty=order_qty, price=price)
        _alone(request, stop_price=stop_price, time_in_force=time_in_force)
        return _call_of("order/placeorder", None, request, timeout, order_refusal)
    _required("place_order", account_spec=account_spec, account_id=account_id, symbol=symbol)
    _required("place_order", action=action, order_qty=order_qty)
    body: dict[str, Any] = {
        "accountSpec": account_spec,
        "accountId": account_id,
        "action": action,
        "symbol": symbol,
        "orderQty": order_qty,
        "orderType": order_type,
        "isAutomated": is_automated,
    }
    _add_prices(body, price, stop_price, time_in_force)
    return TradovateCall("order/placeorder", None, body, timeout, order_refusal)


class TradovateEngine(RetryingEngine[TradovateConnection, TradovateCall]):
    outcome_types = frozenset(
        {Response, ErrorResponse, Penalty, RateLimited, RequestTimedOut, RequestFailed}
    )
    opened_type = Opened
    failed_type = RequestFailed
    diverted_types = frozenset({Chart})
    watched_types = frozenset({EntityChanged})

    def request_id_of(self, outcome: Any) -> int:
        request_id: int = outcome.request_id
        return request_id

    def __init__(
        self,
        endpoint: Endpoint,
        *,
        token: str | TokenSource | None,
        reconnect: ReconnectPolicy | None,
        registry: SubscriptionRegistry | None = None,
        connection_options: Mapping[str, Any] | None = None,
        state_user: int | None = None,
    ) -> None:
        super().__init__(endpoint, reconnect=reconnect)
        #: The account state and order handles (``track_state``), synced for ``state_user``.
        self.tracking = None if state_user is None else TradovateTracking(self, state_user)
        self.token = token
        self.registry = registry if registry is not None else SubscriptionRegistry()
        self._options = dict(connection_options or {})
        #: chart subscriptions a chart history collects inside the client
        self.charts = ChartCapture()

    def divert(self, event: Any) -> Any:
        return self.charts.divert(event)

    def link_lost(self) -> None:
        self.charts.lost()
        if self.tracking is not None:
            self.tracking.lost()

    def observe(self, event: Any, now: float) -> None:
        if self.tracking is not None:
            self.tracking.observe(event)

    def finish(self, reason: str) -> list[Any]:
        out = super().finish(reason)
        if self.tracking is not None:
            self.tracking.closed()
        return out

    def ready_after_sync(self, resubscribed: int, now: float) -> None:
        """READY, once the account snapshot is in when the client tracks state."""
        if self.tracking is None:
            self.authorized(resubscribed)
        else:
            self.tracking.sync(now, partial(self.authorized, resubscribed))

    def track_order(
        self, call: TradovateCall, make_handle: Callable[[OrderView], HandleSink], now: float
    ) -> HandleSink:
        """Send a placing ``call`` and return the handle ``make_handle`` makes for it."""
        return track_order(self.phase, self.tracking, call, make_handle, now)

    def state_snapshot(self) -> TradovateStateSnapshot:
        if self.tracking is None:
            raise LocalProtocolError("account state needs the client made with track_state=True")
        return self.tracking.snapshot()

    def make_connection(self) -> TradovateConnection:
        return TradovateConnection(
            self.endpoint.host_header,
            target=self.endpoint.target,
            registry=self.registry,
            **self._options,
        )

    def on_open(self, now: float) -> None:
        if self.token is None:
            self.ready_after_sync(0, now)
            return
        self._authorize(now)

    def _authorize(self, now: float) -> None:
        conn = self.conn
        assert conn is not None
        if self.token is None:
            return
        try:
            token = token_text(self.token)
        except AuthenticationError as exc:  # a login's token expired: say so, do not send it
            self.refused(exc, now)
            return
        if conn.opened and not conn.authorized:
            self.wait_internal(conn.authorize(token, now=now), self._authorize_answered)

    def _authorize_answered(self, event: Any, now: float) -> None:
        assert self.conn is not None
        if type(event) is Response:
            replayed = self.conn.replay_subscriptions(now=now)
            for request_id in replayed:
                self.wait_internal(request_id, self._resubscribe_answered)
            self.ready_after_sync(len(replayed), now)
        elif type(event) is RequestTimedOut:
            log.info("authorize got no answer in time; dropping the connection")
            self.close_core(now)
        elif type(event) is Penalty or type(event) is RateLimited:
            # Not a bad token: the server wants the client to wait before trying again.
            told = event.retry_after if type(event) is Penalty else None
            what = "a time penalty" if type(event) is Penalty else "HTTP 429"
            self.retry_later(
                "authorize", told, now, self._authorize, f"Tradovate answered authorize with {what}"
            )
        else:
            message = getattr(event, "message", "") or type(event).__name__
            self.refused(AuthenticationError(f"Tradovate refused the token: {message}"), now)

    def _resubscribe_answered(self, event: Any, now: float) -> None:
        if type(event) is not Response:
            log.warning("a subscription could not be restored: %r", event)
            self.emit(event)

    def send(self, call: TradovateCall, now: float) -> int:
        assert self.conn is not None
        if is_authorize(call.endpoint):
            if not isinstance(call.body, str):
                raise TypeError("authorize takes the access token as a string")
            return self.conn.authorize(call.body, now=now)
        return self.conn.request(call.endpoint, call.query, call.body, call.timeout, now=now)

    def result(self, call: TradovateCall, event: Any) -> Any:
        kind = type(event)
        request_id = event.request_id
        if kind is Response:
            if is_authorize(call.endpoint):
                self.token = call.body if isinstance(call.body, str) else self.token
            data = without_secrets(event.data)
            refusal = call.check(data) if call.check is not None else None
            if refusal is None:
                if call.on_answer is not None:
                    call.on_answer(data)
                return typed_answer(call.endpoint, data) if call.typed else data
            raise _refused(call, event, refusal.message, refusal.code)
        if kind is ErrorResponse:
            raise _refused(call, event, event.message or f"HTTP status {event.status}", None)
        if kind is Penalty:
            retry_after = told_wait(event.retry_after, 0.0)
            raise Throttled(
                f"time penalty: retry after {retry_after:g} s with the ticket",
                request=call.name,
                request_id=request_id,
                retry_after=retry_after,
                ticket=event.ticket,
                captcha=event.captcha,
                event=event,
            )
        if kind is RateLimited:
            raise Throttled(
                event.message or "too many requests (HTTP 429)",
                request=call.name,
                request_id=request_id,
                retry_after=None,
                event=event,
            )
        raise unanswered(
            call, event, request_id, timed_out=kind is RequestTimedOut, outcome_unknown=True
        )


R = TypeVar("R")
F = TypeVar("F")


class TradovateCalls(ClientBase[TradovateEngine], Generic[R, F]):
    """A Tradovate client's construction and its requests, named after what they do.

    ``R`` is what a call gives: the result itself (threaded) or a coroutine that returns it
    (asyncio); ``F`` is the future ``request_async`` gives. The adapter's half of the client
    defines ``_call`` and ``_submit`` (see ``ClientBase``).
    """

    _engine: TradovateEngine

    def _ask(self, call: TradovateCall) -> R:
        """``call`` handed to the adapter's ``_call``, typed as this adapter's results."""
        return cast("R", self._call(call))

    def _ask_later(self, call: TradovateCall) -> F:
        """``call`` handed to the adapter's ``_submit``, typed as this adapter's futures."""
        return cast("F", self._submit(call))

    def __init__(
        self,
        url: str,
        *,
        token: str | TokenSource | None = None,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout: float = 10.0,
        reconnect: bool | ReconnectPolicy = True,
        on_event: EventCallback | None = None,
        max_queued_events: int = 10_000,
        max_queued_bytes: int = 64 * 1024 * 1024,
        on_full: OnFull = "conflate",
        on_received: OnReceived | None = None,
        registry: SubscriptionRegistry | None = None,
        track_state: bool = False,
        user_id: int | None = None,
        **connection_options: Any,
    ) -> None:
        """``url`` is the WebSocket (``wss://md.tradovateapi.com/v1/websocket`` for market
        data, ``wss://demo.tradovateapi.com/v1/websocket`` for trading). ``token`` is the
        access token, sent with ``authorize`` on every connection (or call ``authorize``), or a
        login's token (``login.trading``, ``login.market_data``), read on every connection.
        ``ssl_context`` replaces the default one (certificate and host name checked).
        ``connect_timeout`` bounds connecting and authorizing. ``reconnect`` is True, False or
        a ``ReconnectPolicy``. ``on_event`` receives every event instead of ``events()``;
        ``max_queued_events`` and ``max_queued_bytes`` (counted from each event's size on the
        wire) bound the queue ``events()`` reads. ``on_full`` says what happens when it is
        full: ``"conflate"`` (the default) keeps reading and keeps only the newest unread
        market-data update per instrument and kind, so answers and order events are never stuck
        behind quotes; ``"pause"`` drops nothing and stops reading until the consumer catches
        up. ``on_received(data, connection)`` sees the bytes of each read, as read (over a
        WebSocket the upgrade answer first), before they are decoded, with the number of the
        connection they came on (1, then one more per reconnect), on the thread or loop that
        reads: for recording a stream (``brokerwire stream --record`` does), never for
        changing it; an exception it raises is logged.
        ``registry`` holds the subscriptions to restore. ``connection_options`` go to the core
        ``TradovateConnection`` (``heartbeat_interval``, ``watchdog_timeout``,
        ``request_timeout``, ``max_message_size``).
        ``track_state=True`` keeps the account state of user ``user_id`` (required then): each
        connection takes a ``user/syncrequest`` snapshot before it is ready, ``props`` events
        keep it, change events go out with the others, ``account_state()`` gives it, and
        ``place_order_tracked`` returns order handles.
        """
        endpoint = parse_url(url, schemes=frozenset({"ws", "wss"}), default_target="/v1/websocket")
        if track_state and type(user_id) is not int:
            raise ValueError("track_state needs user_id, the user whose accounts to sync")
        engine = TradovateEngine(
            endpoint,
            token=token,
            reconnect=ReconnectPolicy.from_option(reconnect),
            registry=registry,
            connection_options=connection_options,
            state_user=user_id if track_state else None,
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
        self._watch_login(token)

    @property
    def registry(self) -> SubscriptionRegistry:
        """The live subscriptions, restored after each reconnect."""
        return self._engine.registry

    def request(
        self,
        endpoint: str,
        query: Query = None,
        body: Body | msgspec.Struct = None,
        *,
        timeout: float | None = None,
    ) -> R:
        """Any request: ``endpoint`` as in the REST API (``"contract/find"``), ``query`` a string
        or mapping, ``body`` a mapping or list. The result is the answer's ``d``.

        Given a typed body (``request("order/placeorder", PlaceOrder(...))``, the Structs of
        ``brokerwire.core.tradovate.requests``), it goes out by its wire names and the result is
        typed too (``PlaceOrderResult``). The body is checked first: a field of the wrong type,
        or a body another endpoint takes, raises ``LocalProtocolError`` before anything is sent.
        """
        return self._ask(_call_of(endpoint, query, body, timeout))

    def request_async(
        self,
        endpoint: str,
        query: Query = None,
        body: Body | msgspec.Struct = None,
        *,
        timeout: float | None = None,
    ) -> F:
        """Send now, take the outcome later: a future of what ``request(...)`` gives (or of
        its RequestError)."""
        return self._ask_later(_call_of(endpoint, query, body, timeout))

    def use_token(self, token: str) -> None:
        """Authorize every later connection with ``token``, a renewed access token.

        Renew through the REST API (``/auth/renewaccesstoken``) before the old token expires,
        then hand the new one here. The live connection stays as it is: Tradovate keeps an
        authorized socket open past its token's expiry, and authorizing a socket twice is not
        part of the protocol. A reconnect with an expired token would be refused.
        """
        if not isinstance(token, str) or not token:
            raise LocalProtocolError("use_token needs the new access token as a non-empty string")
        self._engine.token = token

    def authorize(self, token: str, *, timeout: float | None = None) -> R:
        """Authorize with an access token (when none was given to the client); the client
        uses it again after every reconnect."""
        return self._ask(TradovateCall("authorize", None, token, timeout))

    def subscribe_quote(self, symbol: str | int, *, timeout: float | None = None) -> R:
        """Stream quotes for a contract (name or id) as ``MarketData`` events."""
        return self._ask(
            TradovateCall(
                "md/subscribeQuote", None, {"symbol": symbol}, timeout, error_text_refusal
            )
        )

    def unsubscribe_quote(self, symbol: str | int, *, timeout: float | None = None) -> R:
        return self._ask(TradovateCall("md/unsubscribeQuote", None, {"symbol": symbol}, timeout))

    def subscribe_dom(self, symbol: str | int, *, timeout: float | None = None) -> R:
        """Stream the depth of market as ``MarketData`` events (``doms``)."""
        return self._ask(
            TradovateCall("md/subscribeDOM", None, {"symbol": symbol}, timeout, error_text_refusal)
        )

    def unsubscribe_dom(self, symbol: str | int, *, timeout: float | None = None) -> R:
        return self._ask(TradovateCall("md/unsubscribeDOM", None, {"symbol": symbol}, timeout))

    def get_chart(
        self,
        symbol: str | int | GetChart,
        *,
        underlying_type: str = "MinuteBar",
        element_size: int = 1,
        element_size_unit: str = "UnderlyingUnits",
        as_much_as_elements: int | None = 100,
        closest_timestamp: str | None = None,
        with_histogram: bool = False,
        timeout: float | None = None,
    ) -> R:
        """History then live bars or ticks as ``Chart`` events; the result holds the
        ``historicalId`` and ``realtimeId`` the packets carry.

        Given a ``GetChart`` (every part of the request typed: chart description, time range,
        custom session), the other arguments but ``timeout`` are not used and the result is a
        ``ChartSubscriptionResult``."""
        if isinstance(symbol, GetChart):
            return self._ask(_call_of("md/getChart", None, symbol, timeout, error_text_refusal))
        time_range: dict[str, Any] = {}
        if as_much_as_elements is not None:
            time_range["asMuchAsElements"] = as_much_as_elements
        if closest_timestamp is not None:
            time_range["closestTimestamp"] = closest_timestamp
        body = {
            "symbol": symbol,
            "chartDescription": {
                "underlyingType": underlying_type,
                "elementSize": element_size,
                "elementSizeUnit": element_size_unit,
                "withHistogram": with_histogram,
            },
            "timeRange": time_range,
        }
        return self._ask(TradovateCall("md/getChart", None, body, timeout, error_text_refusal))

    def cancel_chart(self, subscription_id: int, *, timeout: float | None = None) -> R:
        return self._ask(
            TradovateCall("md/cancelChart", None, {"subscriptionId": subscription_id}, timeout)
        )

    def sync_user(
        self,
        user_ids: int | Sequence[int],
        *,
        split_responses: bool = False,
        timeout: float | None = None,
    ) -> R:
        """``user/syncrequest``: the snapshot of the users' accounts, positions, orders...;
        their changes then arrive as ``EntityChanged`` events."""
        users = [user_ids] if isinstance(user_ids, int) else list(user_ids)
        body: dict[str, Any] = {"users": users}
        if split_responses:
            body["splitResponses"] = True
        return self._ask(TradovateCall("user/syncrequest", None, body, timeout))

    def place_order(
        self,
        request: PlaceOrder | None = None,
        *,
        account_spec: str | None = None,
        account_id: int | None = None,
        symbol: str | int | None = None,
        action: str | None = None,
        order_qty: int | None = None,
        order_type: str = "Market",
        price: float | None = None,
        stop_price: float | None = None,
        time_in_force: str | None = None,
        is_automated: bool = True,
        timeout: float | None = None,
    ) -> R:
        """``order/placeorder``; the result holds the ``orderId``. A ``failureReason`` raises
        ``RequestRefused``. Never sent twice: after a lost link the outcome is reported unknown.

        Given a ``PlaceOrder`` (alone), the result is a ``PlaceOrderResult``."""
        return self._ask(
            _place_call(
                request,
                account_spec=account_spec,
                account_id=account_id,
                symbol=symbol,
                action=action,
                order_qty=order_qty,
                order_type=order_type,
                price=price,
                stop_price=stop_price,
                time_in_force=time_in_force,
                is_automated=is_automated,
                timeout=timeout,
            )
        )

    def place_order_tracked(
        self,
        request: PlaceOrder | None = None,
        *,
        account_spec: str | None = None,
        account_id: int | None = None,
        symbol: str | int | None = None,
        action: str | None = None,
        order_qty: int | None = None,
        order_type: str = "Market",
        price: float | None = None,
        stop_price: float | None = None,
        time_in_force: str | None = None,
        is_automated: bool = True,
        timeout: float | None = None,
    ) -> Any:
        """``place_order``, sent at once, returning an order handle that follows the order to
        its final state (``track_state`` clients only; see ``adapters.order_handles``). Not
        connected, it raises ``ConnectionLost`` and sends nothing; the handle never raises."""
        call = _place_call(
            request,
            account_spec=account_spec,
            account_id=account_id,
            symbol=symbol,
            action=action,
            order_qty=order_qty,
            order_type=order_type,
            price=price,
            stop_price=stop_price,
            time_in_force=time_in_force,
            is_automated=is_automated,
            timeout=timeout,
        )
        return self._track_order(call)

    def account_state(self) -> TradovateStateSnapshot:
        """Every account's positions, open orders and balances now, as one frozen value
        (``track_state`` clients only)."""
        return cast("TradovateStateSnapshot", self._read_state(self._engine.state_snapshot))

    def cancel_order(
        self,
        order_id: int | CancelOrder,
        *,
        is_automated: bool = True,
        timeout: float | None = None,
    ) -> R:
        """``order/cancelorder``; the result holds the ``commandId``. A ``failureReason``
        raises ``RequestRefused``. Never sent twice: after a lost link the outcome is reported
        unknown. Given a ``CancelOrder``, the result is a ``CommandResult``."""
        if isinstance(order_id, CancelOrder):
            return self._ask(_call_of("order/cancelorder", None, order_id, timeout, order_refusal))
        body = {"orderId": order_id, "isAutomated": is_automated}
        return self._ask(TradovateCall("order/cancelorder", None, body, timeout, order_refusal))

    def modify_order(
        self,
        order_id: int | ModifyOrder,
        *,
        order_qty: int | None = None,
        order_type: str | None = None,
        price: float | None = None,
        stop_price: float | None = None,
        time_in_force: str | None = None,
        is_automated: bool = True,
        timeout: float | None = None,
    ) -> R:
        """``order/modifyorder``: a working order's new quantity, type and prices (the result
        holds the ``commandId``). Never sent twice: after a lost link the outcome is reported
        unknown. Given a ``ModifyOrder`` (alone), the result is a ``CommandResult``."""
        if isinstance(order_id, ModifyOrder):
            _alone(order_id, order_qty=order_qty, order_type=order_type, price=price)
            _alone(order_id, stop_price=stop_price, time_in_force=time_in_force)
            call = _call_of("order/modifyorder", None, order_id, timeout, order_refusal)
            return self._ask(call)
        _required("modify_order", order_qty=order_qty, order_type=order_type)
        body: dict[str, Any] = {
            "orderId": order_id,
            "orderQty": order_qty,
            "orderType": order_type,
            "isAutomated": is_automated,
        }
        _add_prices(body, price, stop_price, time_in_force)
        return self._ask(TradovateCall("order/modifyorder", None, body, timeout, order_refusal))

    def liquidate_position(
        self,
        request: LiquidatePosition | None = None,
        *,
        account_id: int | None = None,
        contract_id: int | None = None,
        admin: bool = False,
        timeout: float | None = None,
    ) -> R:
        """``order/liquidateposition``: cancel the contract's working orders and flatten its
        position with a market order (the result holds its ``orderId``). Never sent twice.
        Given a ``LiquidatePosition`` (alone), the result is a ``PlaceOrderResult``."""
        if request is not None:
            _alone(request, account_id=account_id, contract_id=contract_id)
            call = _call_of("order/liquidateposition", None, request, timeout, order_refusal)
            return self._ask(call)
        _required("liquidate_position", account_id=account_id, contract_id=contract_id)
        body = {"accountId": account_id, "contractId": contract_id, "admin": admin}
        return self._ask(
            TradovateCall("order/liquidateposition", None, body, timeout, order_refusal)
        )

    def list_orders(self, *, timeout: float | None = None) -> R:
        """``order/list``: every order of the user's accounts (prices are in ``orderVersion``)."""
        return self._ask(TradovateCall("order/list", None, None, timeout))

    def list_positions(self, *, timeout: float | None = None) -> R:
        """``position/list``: every position of the user's accounts (``netPos`` per contract)."""
        return self._ask(TradovateCall("position/list", None, None, timeout))

    def list_accounts(self, *, timeout: float | None = None) -> R:
        """``account/list``: the user's accounts (``id`` for requests, ``name`` as the
        ``accountSpec`` of orders)."""
        return self._ask(TradovateCall("account/list", None, None, timeout))

    def get_cash_balance_snapshot(self, account_id: int, *, timeout: float | None = None) -> R:
        """``cashBalance/getcashbalancesnapshot``: the account's cash value, open and realized
        PnL, margins. An ``errorText`` raises ``RequestRefused``."""
        body = {"accountId": account_id}
        return self._ask(
            TradovateCall(
                "cashBalance/getcashbalancesnapshot", None, body, timeout, error_text_refusal
            )
        )

    def start_order_strategy(
        self, request: StartOrderStrategy, *, timeout: float | None = None
    ) -> R:
        """``orderStrategy/startorderstrategy``: an entry order with its brackets, managed by the
        server (``core.tradovate.strategy.start_order_strategy`` builds the request with its
        ``params`` string). The result is an ``OrderStrategyStatusResponse``; an ``errorText``
        raises ``RequestRefused``. Never sent twice."""
        endpoint = "orderStrategy/startorderstrategy"
        return self._ask(_call_of(endpoint, None, request, timeout, error_text_refusal))

    def modify_order_strategy(
        self, request: ModifyOrderStrategy, *, timeout: float | None = None
    ) -> R:
        """``orderStrategy/modifyorderstrategy`` (an ``OrderStrategyStatusResponse``; an
        ``errorText`` raises ``RequestRefused``). Never sent twice."""
        endpoint = "orderStrategy/modifyorderstrategy"
        return self._ask(_call_of(endpoint, None, request, timeout, error_text_refusal))

    def interrupt_order_strategy(
        self, order_strategy_id: int | InterruptOrderStrategy, *, timeout: float | None = None
    ) -> R:
        """``orderStrategy/interruptorderstrategy``: stop a running strategy (an
        ``OrderStrategyStatusResponse``; an ``errorText`` raises ``RequestRefused``)."""
        request = (
            order_strategy_id
            if isinstance(order_strategy_id, InterruptOrderStrategy)
            else InterruptOrderStrategy(order_strategy_id=order_strategy_id)
        )
        endpoint = "orderStrategy/interruptorderstrategy"
        return self._ask(_call_of(endpoint, None, request, timeout, error_text_refusal))

    def check_replay_session(
        self, start_timestamp: str | CheckReplaySession, *, timeout: float | None = None
    ) -> R:
        """``replay/checkreplaysession``, before ``initialize_clock`` on a replay socket: a
        ``CheckReplaySessionResponse`` saying whether a replay may start then (``checkStatus``)
        and the start it would use."""
        request = (
            start_timestamp
            if isinstance(start_timestamp, CheckReplaySession)
            else CheckReplaySession(start_timestamp=start_timestamp)
        )
        return self._ask(_call_of("replay/checkreplaysession", None, request, timeout))

    def initialize_clock(
        self,
        start_timestamp: str | InitializeClock,
        *,
        speed: int = 100,
        initial_balance: float | None = None,
        timeout: float | None = None,
    ) -> R:
        """``replay/initializeclock``: start a replay at ``start_timestamp`` (ISO 8601) at
        ``speed`` percent of real time (0 to 400); ``clock`` events follow. The result is a
        ``SimpleResponse``; an ``errorText`` raises ``RequestRefused``. Given an
        ``InitializeClock``, the other arguments but ``timeout`` are not used."""
        request = (
            start_timestamp
            if isinstance(start_timestamp, InitializeClock)
            else InitializeClock(
                start_timestamp=start_timestamp, speed=speed, initial_balance=initial_balance
            )
        )
        endpoint = "replay/initializeclock"
        return self._ask(_call_of(endpoint, None, request, timeout, error_text_refusal))

    def change_speed(self, speed: int | ChangeSpeed, *, timeout: float | None = None) -> R:
        """``replay/changespeed``: the replay's new speed, in percent of real time (0 to 400);
        a ``SimpleResponse``, an ``errorText`` raising ``RequestRefused``."""
        request = speed if isinstance(speed, ChangeSpeed) else ChangeSpeed(speed=speed)
        endpoint = "replay/changespeed"
        return self._ask(_call_of(endpoint, None, request, timeout, error_text_refusal))
