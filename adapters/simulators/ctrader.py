"""An offline cTrader Open API proxy speaking JSON, built on the core's server role.

Like the real port 5036, one port serves both transports: a connection that starts with
``GET `` is a WebSocket upgrade, anything else is JSON over TCP, in whichever framing the
client uses (4-byte length prefix or concatenated objects), answered in kind.

It follows the service: application auth first (``CH_CLIENT_NOT_AUTHENTICATED`` otherwise),
account auth per account, accounts by access token, token refresh, symbols (light and full),
trader, spot subscriptions streamed at ``spot_rate``, orders with the execution events a real
server sends (market orders ORDER_ACCEPTED then ORDER_FILLED; limit and stop orders accepted,
then filled when the price crosses them; ORDER_CANCELLED, ORDER_REPLACED; positions closed by a
closing order), reconcile, deal and order lists, trendbars and tick data made up for any window
the real server accepts (``_ctrader_history``; a fuller one answered ``history_chunk`` records
at a time with ``hasMore``), order errors as ProtoOAOrderErrorEvent,
heartbeats, real error codes, and the rate limits (50 requests/s, 5/s historical) answered with
``BLOCKED_PAYLOAD_TYPE`` and ``retryAfter``. The account's state is shared by every connection:
its execution events reach each connection where the account is authorized. Prices are a
random walk that ``set_price`` overrides (and ``price_walk=False`` stops).

Each spot event's ``timestamp`` is a per-subscription counter starting at 1, not a time, so a
client can prove that nothing was lost or repeated (the real service sends the spot's time
there, when asked to).

Requests are read into their generated Structs (``core.ctrader.models``, numbers sent as numeric
strings accepted); an order request the model refuses is answered with ProtoOAOrderErrorEvent
``INVALID_REQUEST``, as a refused order is. Every answer and event is a Struct too, and the
accounts are kept as them (``_ctrader_book``: hedged, or netted with ``netting``), so that
``account_state()`` gives the server's truth in the form a client's ``CTraderAccountState``
reaches, and ``orders_received()`` shows whether an order arrived twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar, Unpack

import msgspec

from brokerwire.core.ctrader import (
    HISTORICAL_REQUESTS,
    MESSAGE_NAMES,
    ClientMessage,
    CTraderAccountSnapshot,
    CTraderAccountState,
    CTraderServerConnection,
    CTraderSnapshot,
    Envelope,
    PayloadType,
    as_int,
)
from brokerwire.core.ctrader.models import (
    AccountAuthRes,
    AccountDisconnectEvent,
    AccountsTokenInvalidatedEvent,
    AmendOrderReq,
    ApplicationAuthRes,
    CancelOrderReq,
    ClientDisconnectEvent,
    ClientPermissionScope,
    ClosePositionReq,
    CommonErrorRes,
    CtidTraderAccount,
    DealListRes,
    ExecutionEvent,
    GetAccountListByAccessTokenRes,
    GetTickDataRes,
    GetTrendbarsRes,
    LightSymbol,
    NewOrderReq,
    OpenApiMessage,
    OrderErrorEvent,
    OrderListRes,
    RefreshTokenRes,
    SpotEvent,
    SubscribeSpotsRes,
    Symbol,
    SymbolByIdRes,
    SymbolsListRes,
    TraderRes,
    TradingMode,
    UnsubscribeSpotsRes,
    VersionRes,
)
from brokerwire.core.ctrader.models import (
    ErrorRes as OAErrorRes,
)
from brokerwire.core.jsonlib import ValidationError, convert
from brokerwire.core.tcp import TcpConnection
from brokerwire.core.websocket import ConnectionRequest, Role, WebSocketConnection

from ._base import ServerOptions, SimulatorBase
from ._ctrader_book import OrderError, TradingAccount
from ._ctrader_history import Refused, chunked, tick_page, trendbar_page
from ._ctrader_oauth import CTraderAuthority
from ._http import HttpServer
from ._limits import RateWindow, Refusals
from ._server import Driver
from ._session import SimulatedSession, paced
from .faults import Fault

__all__ = ["SYMBOLS", "CTraderSimulator"]

MessageT = TypeVar("MessageT", bound=OpenApiMessage)

# The symbols the simulator knows: id -> name, digits and a starting price (raw, 1/100000).
SYMBOLS: dict[int, dict[str, Any]] = {
    1: {"symbolId": 1, "symbolName": "EURUSD", "digits": 5, "pipPosition": 4, "price": 108512},
    2: {"symbolId": 2, "symbolName": "GBPUSD", "digits": 5, "pipPosition": 4, "price": 127034},
    41: {"symbolId": 41, "symbolName": "XAUUSD", "digits": 2, "pipPosition": 1, "price": 265012000},
}
SPREAD = 2  # points between bid and ask

P = PayloadType
_ALLOWED_BEFORE_APP_AUTH = {
    P.PROTO_OA_APPLICATION_AUTH_REQ,
    P.PROTO_OA_VERSION_REQ,
    P.HEARTBEAT_EVENT,
}


class CTraderSimulator(SimulatorBase["_CTraderSession"]):
    """A cTrader JSON proxy on loopback, over WebSocket and TCP on the same port.

    ``accounts`` are the trading account ids ``access_token`` may use; ``spot_rate`` is spot
    events per second per subscription; ``idle_timeout`` drops a client that sends nothing for
    that long (about 30 s was observed on the real service). Accounts are hedged, or netted
    with ``netting`` (``_ctrader_book``). ``refresh_token`` is what
    ProtoOARefreshTokenReq takes: it gives a new access token and refresh token, and ends the
    sessions on the old one. ``received`` counts the messages clients sent, by payload type.
    ``stamp_sends`` puts each spot's send time (wall clock, microseconds since the epoch) in
    its ``sessionClose``, for measuring latency. Where it listens, its faults and a slow
    server's ``answer_delay`` are the options every simulator takes (``SimulatorBase``).

    ``oauth_url`` is its OAuth service, over plain HTTP on a port beside the API's:
    ``{oauth_url}/auth`` grants at once (a redirect with a code) and ``{oauth_url}/token``
    takes the code and refresh grants, giving tokens that last ``token_lifetime`` seconds
    (``refreshes`` counts refresh grants; ``refuse_refreshes`` arms refusals). Each new access
    token ends the sessions on the old one, as ProtoOARefreshTokenReq does.
    """

    thread_name = "ctrader-simulator"

    def __init__(
        self,
        *,
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",
        access_token: str = "sim-access-token",
        refresh_token: str = "sim-refresh-token",
        accounts: Iterable[int] = (44322853,),
        spot_rate: float = 10.0,
        heartbeat_interval: float = 10.0,
        idle_timeout: float | None = 30.0,
        requests_per_second: int = 50,
        historical_per_second: int = 5,
        history_chunk: int = 1000,
        seed: int = 0,
        price_walk: bool = True,
        stamp_sends: bool = False,
        token_lifetime: float = 2_628_000.0,
        netting: bool = False,
        **server: Unpack[ServerOptions],
    ) -> None:
        super().__init__(**server)
        self.oauth = CTraderAuthority(
            client_id=lambda: self.client_id,
            client_secret=lambda: self.client_secret,
            refresh_token=lambda: self.refresh_token,
            issue=self._issue_tokens,
            token_lifetime=token_lifetime,
        )
        self._http = HttpServer(self.oauth.handle, host=self.host)
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.accounts = list(accounts)
        self.price_walk = price_walk
        self.received: Counter[int] = Counter()
        #: requests refused for exceeding the requests-per-second budget, by payload type
        self.over_budget: Counter[int] = Counter()
        self._refusals = Refusals()
        self.netting = netting
        self.books = {
            account: TradingAccount(
                account, next_id=self.next_id, quote=self.quote, netting=netting
            )
            for account in self.accounts
        }
        #: ProtoOANewOrderReq messages received, by clientOrderId (else label, else "").
        self.orders_by_key: Counter[str] = Counter()
        self.spot_rate = spot_rate
        self.stamp_sends = stamp_sends
        self.heartbeat_interval = heartbeat_interval
        self.idle_timeout = idle_timeout
        self.requests_per_second = requests_per_second
        self.historical_per_second = historical_per_second
        #: The most records one history answer holds; a fuller window is answered with hasMore.
        self.history_chunk = history_chunk
        #: When each historical request arrived (the simulator's loop clock), refused or not;
        #: the latest 100,000.
        self.historical_arrivals: deque[float] = deque(maxlen=100_000)
        self._rng = random.Random(seed)
        self._prices = {symbol_id: int(s["price"]) for symbol_id, s in SYMBOLS.items()}
        self._next_id = 1

    def __repr__(self) -> str:
        return f"<CTraderSimulator accounts={self.accounts}, {self.connections} connections>"

    @property
    def oauth_url(self) -> str:
        """The OAuth service: ``{oauth_url}/auth`` to grant, ``{oauth_url}/token`` for tokens."""
        return f"http://{self.host}:{self._http.port}/apps"

    @property
    def refreshes(self) -> int:
        """Refresh grants answered with new tokens."""
        return self.oauth.refreshes

    def refuse_refreshes(self, times: int = 1, status: int = 503) -> None:
        """The next ``times`` refresh grants are answered with HTTP ``status``. Safe from any
        thread."""
        self.on_loop(lambda: self.oauth.refusals.arm("refresh", status, times))

    def _issue_tokens(self, access_token: str, refresh_token: str) -> None:
        """New tokens from the OAuth service: sessions on the old access token end."""
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.invalidate_token("token was refreshed")

    @property
    def websocket_url(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}/"

    @property
    def tcp_url(self) -> str:
        return f"{'tls' if self.tls else 'tcp'}://{self.host}:{self.port}"

    def next_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def tick(self, symbol_id: int) -> int:
        """The symbol's next raw bid (a random walk in points, unless ``price_walk`` is off)."""
        if self.price_walk:
            step = self._rng.choice((-3, -1, -1, 0, 1, 1, 3))
            self._move(symbol_id, max(1, self._prices[symbol_id] + step))
        return self._prices[symbol_id]

    def quote(self, symbol_id: int) -> tuple[int, int]:
        """The symbol's raw bid and ask now (in 1/100000 of a unit)."""
        bid = self._prices[symbol_id]
        return bid, bid + SPREAD

    def set_price(self, symbol_id: int, bid: float) -> None:
        """Move a symbol's bid (in units: ``1.08512``; the ask is 2 points above); pending
        orders the new prices cross fill. Safe from any thread: on a simulator running in the
        background it happens on the simulator's loop, soon after the call returns."""
        if symbol_id not in SYMBOLS:
            raise ValueError(f"the simulator knows no symbol {symbol_id!r}")
        if not (isinstance(bid, int | float) and 0 < bid < 2**53 / 100_000):
            raise ValueError(f"a price must be a positive number, not {bid!r}")
        raw = max(1, round(bid * 100_000))
        self.on_loop(lambda: self._move(symbol_id, raw))

    def _move(self, symbol_id: int, raw: int) -> None:
        self._prices[symbol_id] = raw
        for account, book in self.books.items():
            for execution in book.price_moved(symbol_id):
                self.publish(account, execution)

    def trader_login(self, account: int) -> int:
        return 5_000_000 + self.accounts.index(account)

    def account_state(self, account_id: int, timeout: float = 10.0) -> CTraderAccountSnapshot:
        """The server's truth about an account now, as the core reducer gives a client's: the
        simulator's own trader and reconcile answers fed to a ``CTraderAccountState``. Safe from
        any thread."""

        def take() -> CTraderAccountSnapshot:
            book = self.books[account_id]
            state = CTraderAccountState(account_id)
            trader = book.trader(self.trader_login(account_id))
            state.apply_snapshot(CTraderSnapshot.of(trader, book.reconcile()))
            snapshot = state.snapshot()
            assert snapshot is not None
            return snapshot

        return self.read_on_loop(take, timeout)

    def deposit(self, account_id: int, amount: int) -> None:
        """Money into the account (``amount`` in cents; below 0 takes it out): its balance
        changes and every connection where it is authorized gets the DEPOSIT_WITHDRAW execution
        event. Safe from any thread."""
        book = self.books[account_id]
        self.on_loop(lambda: self.publish(account_id, book.deposit(amount)))

    def orders_received(self, timeout: float = 10.0) -> dict[str, int]:
        """How many ProtoOANewOrderReq the simulator received, by ``clientOrderId`` (by
        ``label`` for those without one, "" for those with neither), so a test can prove that no
        order reached it twice. Safe from any thread."""
        return self.read_on_loop(lambda: dict(self.orders_by_key), timeout)

    def publish(self, account: int, execution: ExecutionEvent, origin: Any = None) -> None:
        """An execution event for every connection where ``account`` is authorized (the
        ``origin`` session sends its own, tied to the request)."""
        for session in self.sessions():
            if session is not origin and account in session.accounts:
                session.send_event(execution)

    def make_session(self, driver: Driver, fault: Fault | None) -> _CTraderSession:
        return _CTraderSession(self, driver, fault)

    def invalidate_token(self, reason: str = "token was refreshed") -> None:
        """Every client gets ProtoOAAccountsTokenInvalidatedEvent (call in the loop)."""
        for session in self.sessions():
            session.invalidate_token(reason)

    def throttle(self, payload_type: int, times: int = 1, retry_after: Any = 1) -> None:
        """The next ``times`` requests of ``payload_type`` are refused for now: with
        BLOCKED_PAYLOAD_TYPE and ``retryAfter`` (sent as given, so a test may send any JSON
        value), or with REQUEST_FREQUENCY_EXCEEDED when ``retry_after`` is None. Safe from any
        thread."""

        self.on_loop(lambda: self._refusals.arm(int(payload_type), retry_after, times))

    def refuse(self, payload_type: int, times: int = 1, error_code: str = "INTERNAL_ERROR") -> None:
        """The next ``times`` requests of ``payload_type`` are refused with ``error_code``, an
        error that does not ask the client to wait. Safe from any thread."""
        self.on_loop(lambda: self._refusals.arm(("refuse", int(payload_type)), error_code, times))

    def refused(self, payload_type: int) -> tuple[bool, Any]:
        """Whether a request of ``payload_type`` is to be refused now, and its error code."""
        return self._refusals.take(("refuse", payload_type))

    def throttled(self, payload_type: int) -> tuple[bool, Any]:
        """Whether a request of ``payload_type`` is to be refused now, and its retryAfter."""
        return self._refusals.take(payload_type)

    def disconnect_account(self, account_id: int, times: int = 1) -> None:
        """Every client with ``account_id`` authorized gets ProtoOAAccountDisconnectEvent (``times``
        of them at once, as a misbehaving server might) and must authorize the account again
        (call in the loop)."""
        for session in self.sessions():
            session.disconnect_account(account_id, times)


class _Sniffer:
    """Stands in for the server connection until the first bytes tell WebSocket from TCP."""

    def __init__(self, session: _CTraderSession) -> None:
        self._session = session
        self._start = b""

    @property
    def opened(self) -> bool:
        return False  # nothing can be sent before the client said which transport it speaks

    @property
    def closed(self) -> bool:
        return False

    def receive_data(self, data: bytes, now: float) -> list[Any]:
        if not data:
            return []
        data = self._start + data
        if len(data) < 4 and b"GET ".startswith(data):
            self._start = data  # too short to tell yet
            return []
        session = self._session
        transport = (
            WebSocketConnection(Role.SERVER) if data.startswith(b"GET ") else TcpConnection(None)
        )
        session.conn = CTraderServerConnection(
            transport,
            heartbeat_interval=session.sim.heartbeat_interval,
            idle_timeout=session.sim.idle_timeout,
        )
        return session.conn.receive_data(data, now)

    def data_to_send(self) -> bytes:
        return b""

    def next_deadline(self) -> float | None:
        return None

    def handle_timer(self, now: float) -> list[Any]:
        return []


class _CTraderSession(SimulatedSession):
    """One client's conversation with the simulated proxy."""

    def __init__(self, sim: CTraderSimulator, driver: Driver, fault: Fault | None) -> None:
        self.sim = sim
        self.conn: CTraderServerConnection | _Sniffer = _Sniffer(self)
        super().__init__(driver, fault)
        self.app_authorized = False
        self.accounts: set[int] = set()
        self._spots: dict[tuple[int, int], asyncio.Task[None]] = {}
        self._requests = RateWindow(sim.requests_per_second)
        self._historical = RateWindow(sim.historical_per_second)

    def handle(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, ConnectionRequest):
                assert isinstance(self.conn, CTraderServerConnection)
                self.conn.accept(now=self.driver.now())
            elif isinstance(event, ClientMessage):
                self._message(event.envelope)

    # -- sending -----------------------------------------------------------------------------------

    def _send(self, message: OpenApiMessage, client_msg_id: str | None) -> bool:
        conn = self.conn
        assert isinstance(conn, CTraderServerConnection)
        payload_type, payload = _wire(message)
        return self.deliver(lambda: conn.send(payload_type, payload, client_msg_id))

    def _answer(self, envelope: Envelope, message: OpenApiMessage) -> None:
        conn = self.conn
        assert isinstance(conn, CTraderServerConnection)
        payload_type, payload = _wire(message)
        self.respond(lambda: conn.send(payload_type, payload, envelope.client_msg_id))

    def _error(
        self,
        envelope: Envelope,
        code: str,
        description: str,
        *,
        account: int | None = None,
        retry_after: Any = None,
    ) -> None:
        error = OAErrorRes(
            ctid_trader_account_id=account,
            error_code=code,
            description=description,
            retry_after=retry_after,
        )
        self._answer(envelope, error)

    def announce_shutdown(self, reason: str) -> None:
        if isinstance(self.conn, CTraderServerConnection) and not self.driver.closed:
            self.conn.send(*_wire(ClientDisconnectEvent(reason=reason)))

    def close_with(self, code: int, reason: str) -> None:
        if isinstance(self.conn, CTraderServerConnection) and self.conn.opened:
            self.conn.close(code, reason, now=self.driver.now())
        self.driver.flush()

    def invalidate_token(self, reason: str) -> None:
        if self.accounts:
            ids = sorted(self.accounts)
            self.accounts.clear()
            for key in [k for k in self._spots if k[0] in ids]:
                self._spots.pop(key).cancel()
            self._send(
                AccountsTokenInvalidatedEvent(ctid_trader_account_ids=ids, reason=reason), None
            )

    def disconnect_account(self, account_id: int, times: int = 1) -> None:
        if account_id in self.accounts:
            self.accounts.discard(account_id)
            for key in [k for k in self._spots if k[0] == account_id]:
                self._spots.pop(key).cancel()
            for _ in range(times):
                self._send(AccountDisconnectEvent(ctid_trader_account_id=account_id), None)

    def send_event(self, message: OpenApiMessage) -> None:
        self._send(message, None)

    # -- requests ----------------------------------------------------------------------------------

    def _over_budget(self, envelope: Envelope) -> bool:
        now = self.driver.now()
        historical = envelope.payload_type in HISTORICAL_REQUESTS
        window = self._historical if historical else self._requests
        if not window.admit(now):
            self.sim.over_budget[envelope.payload_type] += 1
            retry_after = max(1, round(window.free_in(now) + 0.5))
            self._error(
                envelope,
                "BLOCKED_PAYLOAD_TYPE",
                "Message is blocked by server or rate limit is reached.",
                retry_after=retry_after,
            )
            return True
        return False

    def _message(self, envelope: Envelope) -> None:
        payload_type = envelope.payload_type
        self.sim.received[payload_type] += 1
        if payload_type in HISTORICAL_REQUESTS:
            self.sim.historical_arrivals.append(self.driver.now())
        if payload_type == P.HEARTBEAT_EVENT:
            return
        if self._over_budget(envelope):
            return
        refused, error_code = self.sim.refused(payload_type)
        if refused:
            self._error(envelope, error_code, "Refused by the test")
            return
        refused, retry_after = self.sim.throttled(payload_type)
        if refused:
            if retry_after is None:
                self._error(envelope, "REQUEST_FREQUENCY_EXCEEDED", "Request frequency is reached")
            else:
                self._error(
                    envelope,
                    "BLOCKED_PAYLOAD_TYPE",
                    "Message is blocked by server or rate limit is reached.",
                    retry_after=retry_after,
                )
            return
        if not self.app_authorized and payload_type not in _ALLOWED_BEFORE_APP_AUTH:
            self._error(
                envelope, "CH_CLIENT_NOT_AUTHENTICATED", "Open API application is not authorized"
            )
            return
        handler = _HANDLERS.get(payload_type)
        if handler is None:
            if payload_type in MESSAGE_NAMES:
                self._error(
                    envelope,
                    "UNSUPPORTED_MESSAGE",
                    f"{MESSAGE_NAMES[payload_type]} is not simulated",
                )
            else:
                self._answer(
                    envelope,
                    CommonErrorRes(
                        error_code="UNSUPPORTED_MESSAGE",
                        description=f"Unknown payload type {payload_type}",
                    ),
                )
            return
        account = as_int(envelope.payload.get("ctidTraderAccountId"))
        if handler.account_scoped and account not in self.accounts:
            self._error(
                envelope,
                "ACCOUNT_NOT_AUTHORIZED",
                "Trading account is not authorized",
                account=account,
            )
            return
        handler.function(self, envelope, account or 0)

    def application_auth(self, envelope: Envelope, _: int) -> None:
        payload = envelope.payload
        if self.app_authorized:
            self._error(
                envelope,
                "CH_CLIENT_ALREADY_AUTHENTICATED",
                "Open API application is already authorized",
            )
        elif (
            payload.get("clientId") == self.sim.client_id
            and payload.get("clientSecret") == self.sim.client_secret
        ):
            self.app_authorized = True
            self._answer(envelope, ApplicationAuthRes())
        else:
            self._error(envelope, "CH_CLIENT_AUTH_FAILURE", "clientId or clientSecret is incorrect")

    def version(self, envelope: Envelope, _: int) -> None:
        self._answer(envelope, VersionRes(version="brokerwire-simulator"))

    def accounts_by_token(self, envelope: Envelope, _: int) -> None:
        token = envelope.payload.get("accessToken")
        if token != self.sim.access_token:
            self._error(envelope, "CH_ACCESS_TOKEN_INVALID", "Access token is invalid")
            return
        accounts = [
            CtidTraderAccount(
                ctid_trader_account_id=a, is_live=False, trader_login=self.sim.trader_login(a)
            )
            for a in self.sim.accounts
        ]
        answer = GetAccountListByAccessTokenRes(
            access_token=token,
            permission_scope=ClientPermissionScope.SCOPE_TRADE,
            ctid_trader_account=accounts,
        )
        self._answer(envelope, answer)

    def account_auth(self, envelope: Envelope, account: int) -> None:
        if envelope.payload.get("accessToken") != self.sim.access_token:
            self._error(
                envelope,
                "CH_ACCESS_TOKEN_INVALID",
                "Access token is invalid",
                account=account,
            )
        elif account not in self.sim.accounts:
            self._error(
                envelope,
                "CH_CTID_TRADER_ACCOUNT_NOT_FOUND",
                "Trading account is not found",
                account=account,
            )
        elif account in self.accounts:
            self._error(
                envelope,
                "ALREADY_LOGGED_IN",
                "Trading account is already authorized",
                account=account,
            )
        else:
            self.accounts.add(account)
            self._answer(envelope, AccountAuthRes(ctid_trader_account_id=account))

    def symbols_list(self, envelope: Envelope, account: int) -> None:
        symbols = [
            LightSymbol(symbol_id=s["symbolId"], symbol_name=s["symbolName"], enabled=True)
            for s in SYMBOLS.values()
        ]
        self._answer(envelope, SymbolsListRes(ctid_trader_account_id=account, symbol=symbols))

    def _known_symbols(self, envelope: Envelope, account: int) -> list[int] | None:
        """The symbol ids a request names; None (and the error answered) unless there are
        some and the simulator knows each."""
        symbols = _symbol_ids(envelope.payload)
        unknown = [s for s in symbols if s not in SYMBOLS]
        if unknown or not symbols:
            self._error(
                envelope,
                "SYMBOL_NOT_FOUND",
                f"Symbol not found: {unknown}",
                account=account,
            )
            return None
        return symbols

    def subscribe_spots(self, envelope: Envelope, account: int) -> None:
        symbols = self._known_symbols(envelope, account)
        if symbols is None:
            return
        if any((account, s) in self._spots for s in symbols):
            self._error(envelope, "ALREADY_SUBSCRIBED", "Already subscribed", account=account)
            return
        self._answer(envelope, SubscribeSpotsRes(ctid_trader_account_id=account))
        for symbol in symbols:
            self._spots[(account, symbol)] = self.driver.spawn(self._stream_spots(account, symbol))

    def unsubscribe_spots(self, envelope: Envelope, account: int) -> None:
        for symbol in _symbol_ids(envelope.payload):
            task = self._spots.pop((account, symbol), None)
            if task is not None:
                task.cancel()
        self._answer(envelope, UnsubscribeSpotsRes(ctid_trader_account_id=account))

    async def _stream_spots(self, account: int, symbol: int) -> None:
        seq = 0
        async for _ in paced(self.sim.spot_rate, self.driver):
            seq += 1
            bid = self.sim.tick(symbol)
            spot = SpotEvent(
                ctid_trader_account_id=account,
                symbol_id=symbol,
                bid=bid,
                ask=bid + SPREAD,
                timestamp=seq,
                session_close=time.time_ns() // 1000 if self.sim.stamp_sends else None,
            )
            if not self._send(spot, None):
                return

    def new_order(self, envelope: Envelope, account: int) -> None:
        payload = envelope.payload
        key = next(
            (v for v in (payload.get("clientOrderId"), payload.get("label")) if type(v) is str),
            "",
        )
        self.sim.orders_by_key[key] += 1
        symbol = as_int(payload.get("symbolId"))
        if symbol not in SYMBOLS:  # told before the rest, as the service does
            self._order_error(envelope, account, "SYMBOL_NOT_FOUND", "Symbol not found")
            return
        book = self.sim.books[account]
        # A missing orderType is taken as MARKET, as the simulator always has.
        request = self._read_order(envelope, account, NewOrderReq, orderType=1)
        if request is not None:
            self._executions(envelope, account, lambda: book.new_order(request, SYMBOLS))

    def cancel_order(self, envelope: Envelope, account: int) -> None:
        book = self.sim.books[account]
        request = self._read_order(envelope, account, CancelOrderReq)
        if request is not None:
            self._executions(envelope, account, lambda: book.cancel_order(request.order_id))

    def amend_order(self, envelope: Envelope, account: int) -> None:
        book = self.sim.books[account]
        request = self._read_order(envelope, account, AmendOrderReq)
        if request is not None:
            self._executions(envelope, account, lambda: book.amend_order(request))

    def close_position(self, envelope: Envelope, account: int) -> None:
        book = self.sim.books[account]
        request = self._read_order(envelope, account, ClosePositionReq)
        if request is not None:
            self._executions(envelope, account, lambda: book.close_position(request))

    def _read_order(
        self, envelope: Envelope, account: int, kind: type[MessageT], **defaults: Any
    ) -> MessageT | None:
        """An order request as its model, or None once a payload the model refuses has been
        answered with ProtoOAOrderErrorEvent INVALID_REQUEST."""
        try:
            return convert({**defaults, **envelope.payload}, kind, numeric_strings=True)
        except ValidationError as exc:
            self._order_error(envelope, account, "INVALID_REQUEST", str(exc))
            return None

    def _executions(
        self, envelope: Envelope, account: int, command: Callable[[], list[ExecutionEvent]]
    ) -> None:
        """Run an order command: its execution events answer the request here (the first
        completes it, the rest follow with the same clientMsgId) and reach the account's
        other connections; a refusal is a ProtoOAOrderErrorEvent."""
        try:
            executions = command()
        except OrderError as refused:
            self._order_error(envelope, account, refused.code, refused.description, refused.fields)
            return
        for execution in executions:
            self._answer(envelope, execution)
            self.sim.publish(account, execution, origin=self)

    def reconcile(self, envelope: Envelope, account: int) -> None:
        self._answer(envelope, self.sim.books[account].reconcile())

    def trader(self, envelope: Envelope, account: int) -> None:
        trader = self.sim.books[account].trader(self.sim.trader_login(account))
        self._answer(envelope, TraderRes(ctid_trader_account_id=account, trader=trader))

    def symbol_by_id(self, envelope: Envelope, account: int) -> None:
        wanted = self._known_symbols(envelope, account)
        if wanted is None:
            return
        symbols = [_full_symbol(SYMBOLS[s]) for s in wanted]
        self._answer(envelope, SymbolByIdRes(ctid_trader_account_id=account, symbol=symbols))

    def deal_list(self, envelope: Envelope, account: int) -> None:
        start, end = _time_range(envelope.payload)
        deals, more = self.sim.books[account].deal_list(
            start, end, as_int(envelope.payload.get("maxRows"))
        )
        if not more:
            deals, more = chunked(deals, self.sim.history_chunk)
        self._answer(
            envelope, DealListRes(ctid_trader_account_id=account, deal=deals, has_more=more)
        )

    def order_list(self, envelope: Envelope, account: int) -> None:
        start, end = _time_range(envelope.payload)
        orders, more = chunked(
            self.sim.books[account].order_list(start, end), self.sim.history_chunk
        )
        self._answer(
            envelope, OrderListRes(ctid_trader_account_id=account, order=orders, has_more=more)
        )

    def refresh_token(self, envelope: Envelope, _: int) -> None:
        if envelope.payload.get("refreshToken") != self.sim.refresh_token:
            self._error(envelope, "CH_ACCESS_TOKEN_INVALID", "Refresh token is invalid")
            return
        self.sim.access_token = f"sim-access-token-{self.sim.next_id()}"
        self.sim.refresh_token = f"sim-refresh-token-{self.sim.next_id()}"
        self._answer(
            envelope,
            RefreshTokenRes(
                access_token=self.sim.access_token,
                token_type="bearer",  # noqa: S106 - the kind of token, not one
                expires_in=2_628_000,
                refresh_token=self.sim.refresh_token,
            ),
        )
        self.sim.invalidate_token("token was refreshed")

    def _order_error(
        self,
        envelope: Envelope,
        account: int,
        code: str,
        description: str,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        fields = fields or {}
        error = OrderErrorEvent(
            ctid_trader_account_id=account,
            error_code=code,
            description=description,
            order_id=fields.get("orderId"),
            position_id=fields.get("positionId"),
        )
        self._answer(envelope, error)

    def trendbars(self, envelope: Envelope, account: int) -> None:
        self._history(envelope, account, GetTrendbarsRes, "trendbar", trendbar_page)

    def tick_data(self, envelope: Envelope, account: int) -> None:
        self._history(envelope, account, GetTickDataRes, "tickData", tick_page)

    def _history(
        self,
        envelope: Envelope,
        account: int,
        answer_type: type[GetTrendbarsRes | GetTickDataRes],
        field: str,
        page: Callable[[int, int, dict[str, Any], int], tuple[list[Any], bool]],
    ) -> None:
        """Bars or ticks made up for the window asked (``_ctrader_history``)."""
        payload = envelope.payload
        symbol = as_int(payload.get("symbolId"))
        if symbol not in SYMBOLS:
            self._error(envelope, "SYMBOL_NOT_FOUND", "Symbol not found", account=account)
            return
        try:
            records, more = page(symbol, SYMBOLS[symbol]["price"], payload, self.sim.history_chunk)
        except Refused as refused:
            self._error(envelope, refused.code, refused.description, account=account)
            return
        answer: dict[str, Any] = {"ctidTraderAccountId": account, field: records, "hasMore": more}
        if answer_type is GetTrendbarsRes:
            answer.update(period=payload.get("period", 1), symbolId=symbol)
        try:
            message = convert(answer, answer_type, numeric_strings=True)
        except ValidationError as exc:
            self._error(envelope, "INVALID_REQUEST", str(exc), account=account)
            return
        self._answer(envelope, message)


def _full_symbol(symbol: Mapping[str, Any]) -> Symbol:
    """A ProtoOASymbol: what trading the symbol needs to know."""
    lot = 10_000_000 if symbol["digits"] == 5 else 10_000
    return Symbol(
        symbol_id=symbol["symbolId"],
        digits=symbol["digits"],
        pip_position=symbol["pipPosition"],
        enable_short_selling=True,
        min_volume=100,
        max_volume=10_000_000_000,
        step_volume=100,
        lot_size=lot,
        trading_mode=TradingMode.ENABLED,
        measurement_units=symbol["symbolName"][:3],
    )


def _wire(message: OpenApiMessage) -> tuple[int, dict[str, Any]]:
    """The payload type and payload (by wire name) of a message the simulator sends."""
    payload: dict[str, Any] = msgspec.to_builtins(message)
    return type(message).PAYLOAD_TYPE, payload


def _time_range(payload: Mapping[str, Any]) -> tuple[int, int]:
    start = as_int(payload.get("fromTimestamp"))
    end = as_int(payload.get("toTimestamp"))
    return (start if start is not None else 0), (end if end is not None else 2_147_483_646_000)


def _symbol_ids(payload: Mapping[str, Any]) -> list[int]:
    raw = payload.get("symbolId")
    values = raw if isinstance(raw, list) else [raw]
    return [s for s in (as_int(v) for v in values) if s is not None]


class _Handler:
    def __init__(
        self, function: Callable[[_CTraderSession, Envelope, int], None], account_scoped: bool
    ) -> None:
        self.function = function
        self.account_scoped = account_scoped


_HANDLERS: dict[int, _Handler] = {
    P.PROTO_OA_APPLICATION_AUTH_REQ: _Handler(_CTraderSession.application_auth, False),
    P.PROTO_OA_VERSION_REQ: _Handler(_CTraderSession.version, False),
    P.PROTO_OA_GET_ACCOUNTS_BY_ACCESS_TOKEN_REQ: _Handler(_CTraderSession.accounts_by_token, False),
    P.PROTO_OA_ACCOUNT_AUTH_REQ: _Handler(_CTraderSession.account_auth, False),
    P.PROTO_OA_SYMBOLS_LIST_REQ: _Handler(_CTraderSession.symbols_list, True),
    P.PROTO_OA_SUBSCRIBE_SPOTS_REQ: _Handler(_CTraderSession.subscribe_spots, True),
    P.PROTO_OA_UNSUBSCRIBE_SPOTS_REQ: _Handler(_CTraderSession.unsubscribe_spots, True),
    P.PROTO_OA_NEW_ORDER_REQ: _Handler(_CTraderSession.new_order, True),
    P.PROTO_OA_CANCEL_ORDER_REQ: _Handler(_CTraderSession.cancel_order, True),
    P.PROTO_OA_AMEND_ORDER_REQ: _Handler(_CTraderSession.amend_order, True),
    P.PROTO_OA_CLOSE_POSITION_REQ: _Handler(_CTraderSession.close_position, True),
    P.PROTO_OA_RECONCILE_REQ: _Handler(_CTraderSession.reconcile, True),
    P.PROTO_OA_TRADER_REQ: _Handler(_CTraderSession.trader, True),
    P.PROTO_OA_SYMBOL_BY_ID_REQ: _Handler(_CTraderSession.symbol_by_id, True),
    P.PROTO_OA_DEAL_LIST_REQ: _Handler(_CTraderSession.deal_list, True),
    P.PROTO_OA_ORDER_LIST_REQ: _Handler(_CTraderSession.order_list, True),
    P.PROTO_OA_REFRESH_TOKEN_REQ: _Handler(_CTraderSession.refresh_token, False),
    P.PROTO_OA_GET_TRENDBARS_REQ: _Handler(_CTraderSession.trendbars, True),
    P.PROTO_OA_GET_TICKDATA_REQ: _Handler(_CTraderSession.tick_data, True),
}
