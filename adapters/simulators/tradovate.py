"""An offline Tradovate WebSocket server, built on the core's server role.

It behaves as the real service does: ``o`` on connect, ``h`` every 2.5 s while idle,
``authorize`` with the right token first (401 otherwise), clients that send nothing dropped
after ``idle_timeout``, request documents answered ``{"i","s","d"}``, subscriptions streamed as
``md``/``chart``/``clock``/``props`` events, penalties and 429s when a client sends too fast.
Market data is a deterministic random walk, which ``set_price`` overrides.

Like the service, it has a market-data socket (``md_url``, authorized with ``md_token``, the
``mdAccessToken``; ``md/*`` requests only) and a trading socket (``trading_url``, authorized with
``token``, the ``accessToken``; everything else). ``url`` is one socket that serves both with
``token``, for a quickstart. The three are paths on one port.

One simulated account (``account_id``, ``account_name``) of one user (``user_id``) is shared
by every connection: market orders fill at once, limit and stop orders rest until the price
crosses them, and each change is a ``props`` event on every socket that sent
``user/syncrequest``. ``throttle_authorize`` makes the next authorizations meet a time penalty
or a 429, to test a client's patience; ``refuse_syncs`` refuses the next syncs.

Each quote's ``id`` is a per-subscription counter starting at 1, so a client can prove that
nothing was lost or repeated.

Request bodies are read into the models of ``core.tradovate.requests`` (a missing ``orderType``
taken as Market, as the simulator always has); a command whose body the model refuses is
refused inside a 200, as a bad order is. Entities, answers and events are the Structs of
``core.tradovate.models`` and ``market``, and the account is kept as them (``_tradovate_book``:
netted positions, fills and fill pairs, execution reports, order versions, cash), so that
``account_state()`` gives the server's truth in the form a client's ``TradovateAccountState``
reaches, and ``orders_received()`` shows whether an order arrived twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import random
import secrets
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar, Unpack
from urllib.parse import parse_qs

import msgspec

from brokerwire.core.jsonlib import JSONDecodeError, ValidationError, convert, dumps_str, loads
from brokerwire.core.tradovate import (
    ClientRequest,
    RequestDocument,
    TradovateServerConnection,
)
from brokerwire.core.tradovate.account import TradovateAccountState, TradovateStateSnapshot
from brokerwire.core.tradovate.market import (
    Bar,
    BarPacket,
    Dom,
    EndOfHistory,
    Quote,
    QuoteEntries,
    QuoteEntry,
)
from brokerwire.core.tradovate.models import (
    Account,
    Contract,
    OrderStrategy,
    OrderStrategyStatus,
    RejectReason,
    SyncSnapshot,
    User,
    UserStatus,
)
from brokerwire.core.tradovate.requests import (
    CancelOrder,
    ChangeSpeed,
    ChartSubscriptionResult,
    CheckReplaySession,
    CheckReplaySessionResponse,
    CheckStatus,
    CommandResult,
    GetChart,
    InitializeClock,
    LiquidatePosition,
    ModifyOrder,
    OrderStrategyStatusResponse,
    PlaceOrder,
    PlaceOrderResult,
    SimpleResponse,
    SubscriptionErrorCode,
    SubscriptionMode,
)
from brokerwire.core.websocket import ConnectionRequest

from ._base import ServerOptions, SimulatorBase
from ._http import HttpServer
from ._limits import RateWindow, Refusals
from ._server import Driver
from ._session import SimulatedSession, paced
from ._tradovate_auth import TradovateAuthority
from ._tradovate_book import TradingBook, refusal
from ._tradovate_history import history_minutes, history_price
from .faults import Fault

__all__ = ["CONTRACTS", "TradovateSimulator"]

StructT = TypeVar("StructT", bound=msgspec.Struct)

# The contracts the simulator knows: id, name, tick size, starting price.
CONTRACTS: dict[str, dict[str, Any]] = {
    "ESZ6": {
        "id": 3570918,
        "name": "ESZ6",
        "contractMaturityId": 51234,
        "tickSize": 0.25,
        "price": 6012.25,
        "valuePerPoint": 50.0,
    },
    "NQZ6": {
        "id": 3570920,
        "name": "NQZ6",
        "contractMaturityId": 51236,
        "tickSize": 0.25,
        "price": 21450.5,
        "valuePerPoint": 20.0,
    },
    "MESZ6": {
        "id": 3570922,
        "name": "MESZ6",
        "contractMaturityId": 51240,
        "tickSize": 0.25,
        "price": 6012.25,
        "valuePerPoint": 5.0,
    },
    "CLZ6": {
        "id": 3571100,
        "name": "CLZ6",
        "contractMaturityId": 51300,
        "tickSize": 0.01,
        "price": 71.42,
        "valuePerPoint": 1000.0,
    },
}
_BY_ID = {c["id"]: c for c in CONTRACTS.values()}
USER_ID = 2001
ACCOUNT = convert(
    {
        "id": 7001,
        "name": "SIM7001",
        "userId": USER_ID,
        "accountType": "Customer",
        "active": True,
        "clearingHouseId": 2,
        "riskCategoryId": 2,
        "autoLiqProfileId": 2,
        "marginAccountType": "Speculator",
        "legalStatus": "Individual",
    },
    Account,
)
USER = User(
    id=USER_ID,
    name="simulated-user",
    timestamp="2024-01-02T00:00:00.000Z",
    email="simulated-user@example.invalid",
    status=UserStatus.ACTIVE,
    professional=False,
)
#: The arrays a sync answer always holds, empty or not, as the service's ``SyncMessage``.
_SYNC_ARRAYS = (
    "users",
    "accounts",
    "positions",
    "orders",
    "orderVersions",
    "executionReports",
    "fills",
    "fillPairs",
    "cashBalances",
    "contracts",
    "contractGroups",
)

# The socket each path is: what it serves and which token authorizes it.
MD_PATH, TRADING_PATH, COMBINED_PATH = "/md/v1/websocket", "/trading/v1/websocket", "/v1/websocket"


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _minute_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)


def _wall_clock() -> str:
    return _iso(dt.datetime.now(dt.UTC))


_stamped_second: list[Any] = [None, ""]  # the second last formatted, and its text


def _send_stamp() -> str:
    """The wall clock to the microsecond, as a quote's ``timestamp`` (``stamp_sends``); the
    second's text is kept, as thousands of quotes a second share it."""
    now = time.time()
    second = int(now)
    if second != _stamped_second[0]:
        _stamped_second[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))]
    return f"{_stamped_second[1]}.{min(int((now - second) * 1e6), 999_999):06d}Z"


def _contract_or_raise(symbol: str | int) -> dict[str, Any]:
    contract = _BY_ID.get(symbol) if isinstance(symbol, int) else CONTRACTS.get(symbol)
    if contract is None:
        raise ValueError(f"the simulator knows no contract {symbol!r}")
    return contract


def _public(contract: Mapping[str, Any]) -> Contract:
    return Contract(
        id=contract["id"],
        name=contract["name"],
        contract_maturity_id=contract["contractMaturityId"],
    )


def _invalid(kind: type[StructT], reason: str) -> StructT:
    """The refusal of a command whose body the model does not take."""
    return kind(failure_reason=RejectReason.UNKNOWN_REASON, failure_text=f"Invalid order: {reason}")


class _Quotes(msgspec.Struct, frozen=True):
    """The ``d`` of an ``md`` event of quotes."""

    quotes: list[Quote]


class _Doms(msgspec.Struct, frozen=True):
    """The ``d`` of an ``md`` event of depth of market."""

    doms: list[Dom]


class _Charts(msgspec.Struct, frozen=True):
    """The ``d`` of a ``chart`` event."""

    charts: list[BarPacket | EndOfHistory]


class _Clock(msgspec.Struct, frozen=True):
    """A replay clock tick, sent as JSON inside the ``clock`` event's string."""

    t: str
    s: int


class _Props(msgspec.Struct, frozen=True, rename="camel"):
    """The ``d`` of a ``props`` event."""

    entity_type: str
    event_type: str
    entity: Any


def _read(body: Mapping[str, Any], kind: type[StructT], **defaults: Any) -> StructT | str:
    """A request body as its model (what the simulator assumes for ``defaults`` when absent),
    or why the model refuses it."""
    try:
        return convert({**defaults, **body}, kind)
    except ValidationError as exc:
        return str(exc)


class _Market:
    """A random walk per contract (or none, with ``walk`` False), shared by every connection
    of one simulator; ``on_move`` hears every new price."""

    def __init__(self, seed: int, walk: bool = True) -> None:
        self._rng = random.Random(seed)
        self._prices = {c["id"]: float(c["price"]) for c in CONTRACTS.values()}
        self.volume = dict.fromkeys(self._prices, 100_000)
        self.walk = walk
        self.on_move: Callable[[int, float], None] = lambda contract_id, price: None

    def tick(self, contract_id: int) -> float:
        self.volume[contract_id] += self._rng.randrange(1, 20)
        if not self.walk:
            return self._prices[contract_id]
        contract = _BY_ID[contract_id]
        step = contract["tickSize"] * self._rng.choice((-2, -1, -1, 0, 0, 1, 1, 2))
        self.set(contract_id, max(contract["tickSize"], self._prices[contract_id] + step))
        return self._prices[contract_id]

    def set(self, contract_id: int, price: float) -> None:
        self._prices[contract_id] = round(price, 6)
        self.on_move(contract_id, self._prices[contract_id])

    def price(self, contract_id: int) -> float:
        return self._prices[contract_id]


class TradovateSimulator(SimulatorBase["_TradovateSession"]):
    """A Tradovate WebSocket server on loopback.

    ``url`` (one socket for everything, authorized with ``token``), ``md_url`` (market data,
    ``md_token``) and ``trading_url`` (trading, ``token``). ``user_id``, ``account_id`` and
    ``account_name`` (the ``accountSpec`` of orders) are the simulated user's.

    ``quote_rate`` is quotes per second per subscription; ``price_walk`` False keeps each price
    where ``set_price`` put it. ``stamp_sends`` puts each quote's send time in its
    ``timestamp`` to the microsecond (the service gives milliseconds), for measuring latency.
    ``request_limit`` is requests per second per connection before a time penalty
    (``penalty_seconds``), during which every request is answered 429.
    ``idle_timeout`` drops a client that sends nothing (not even ``[]``) for that long;
    Tradovate does not document its value, so 10 s is a cautious guess. Where it listens, its
    faults and a slow server's ``answer_delay`` are the options every simulator takes
    (``SimulatorBase``).

    ``auth_url`` is the REST base of its sign-in, served over plain HTTP on a port beside the
    WebSocket one: ``auth/accesstokenrequest`` with ``username``, ``password``, ``app_id``,
    ``cid`` and ``sec`` opens a session (``sessions_opened`` counts them) whose tokens last
    ``token_lifetime`` seconds, and ``auth/renewaccesstoken`` renews them (``renewals``).
    ``penalize_sign_ins``, ``refuse_sign_ins`` and ``refuse_renewals`` arm refusals.
    """

    thread_name = "tradovate-simulator"

    def __init__(
        self,
        *,
        token: str = "sim-access-token",
        md_token: str = "sim-md-access-token",
        quote_rate: float = 10.0,
        dom_rate: float = 2.0,
        bar_interval: float = 1.0,
        chart_batch: int = 500,
        clock_interval: float = 1.0,
        heartbeat_interval: float = 2.5,
        idle_timeout: float | None = 10.0,
        request_limit: int = 50,
        penalty_seconds: float = 5.0,
        seed: int = 0,
        price_walk: bool = True,
        stamp_sends: bool = False,
        username: str = "sim-user",
        password: str = "sim-password",
        app_id: str = "brokerwire-sim",
        cid: int = 8,
        sec: str = "sim-api-secret",
        token_lifetime: float = 90 * 60.0,
        **server: Unpack[ServerOptions],
    ) -> None:
        super().__init__(**server)
        self.token = token
        self.md_token = md_token
        self.username, self.password, self.app_id, self.cid, self.sec = (
            username,
            password,
            app_id,
            cid,
            sec,
        )
        credentials = {"name": username, "password": password, "appId": app_id, "cid": cid}
        self.auth = TradovateAuthority(
            credentials={**credentials, "sec": sec},
            token_lifetime=token_lifetime,
            user_id=USER_ID,
            clock=self._clock,
        )
        self._http = HttpServer(self.auth.handle, host=self.host)
        self.user_id = USER_ID
        self.account_id: int = ACCOUNT.id or 0
        self.account_name: str = ACCOUNT.name
        self.quote_rate = quote_rate
        self.stamp_sends = stamp_sends
        self.dom_rate = dom_rate
        self.bar_interval = bar_interval
        self.chart_batch = chart_batch
        self.chart_requests = 0
        self.clock_interval = clock_interval
        self.heartbeat_interval = heartbeat_interval
        self.idle_timeout = idle_timeout
        self.request_limit = request_limit
        self.penalty_seconds = penalty_seconds
        self.market = _Market(seed, price_walk)
        self._ids = itertools.count(1)
        self.book = TradingBook(
            ACCOUNT,
            next_id=lambda: self.next_id() + 500_000,
            price_of=self.market.price,
            value_per_point={c["id"]: c["valuePerPoint"] for c in CONTRACTS.values()},
        )
        self.book.publish = self._publish
        self.market.on_move = self.book.price_moved
        self._refusals = Refusals()
        self.authorize_requests = 0  # authorize requests received, on every connection

    def __repr__(self) -> str:
        return f"<TradovateSimulator on {self.host}, {self.connections} connections>"

    @staticmethod
    def _clock() -> float:
        return asyncio.get_running_loop().time()

    @property
    def auth_url(self) -> str:
        """The REST base of sign-in and renewal (``{auth_url}/auth/accesstokenrequest``)."""
        return f"http://{self.host}:{self._http.port}/v1"

    @property
    def sessions_opened(self) -> int:
        """Sign-ins that opened a session (renewals open none)."""
        return self.auth.sessions_opened

    @property
    def renewals(self) -> int:
        """Token renewals answered with new tokens."""
        return self.auth.renewals

    def penalize_sign_ins(self, times: int = 1, wait: Any = 1.0, *, captcha: bool = False) -> None:
        """The next ``times`` sign-ins get a time penalty of ``wait`` seconds (one sent again
        with its ticket passes), or a CAPTCHA. Safe from any thread."""
        how = ("captcha", None) if captcha else ("penalty", wait)
        self.on_loop(lambda: self.auth.refusals.arm("sign-in", how, times))

    def refuse_sign_ins(self, times: int = 1, error_text: str = "Access is denied") -> None:
        """The next ``times`` sign-ins are answered with ``errorText``. Safe from any thread."""
        self.on_loop(lambda: self.auth.refusals.arm("sign-in", ("error", error_text), times))

    def refuse_renewals(self, times: int = 1, status: int = 503) -> None:
        """The next ``times`` renewals are answered with HTTP ``status``. Safe from any
        thread."""
        self.on_loop(lambda: self.auth.refusals.arm("renew", status, times))

    def _url(self, path: str) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.host}:{self.port}{path}"

    @property
    def url(self) -> str:
        """One socket for market data and trading alike, authorized with ``token``."""
        return self._url(COMBINED_PATH)

    @property
    def md_url(self) -> str:
        """The market-data socket (``md/*`` requests), authorized with ``md_token``."""
        return self._url(MD_PATH)

    @property
    def trading_url(self) -> str:
        """The trading socket (orders, accounts, positions, sync), authorized with ``token``."""
        return self._url(TRADING_PATH)

    def price(self, symbol: str | int) -> float:
        """The simulated price of a contract (name or id) now."""
        return self.market.price(_contract_or_raise(symbol)["id"])

    def set_price(self, symbol: str | int, price: float) -> None:
        """Move a contract's simulated price; working limit and stop orders it crosses fill.

        Safe from any thread: on a simulator running in the background it happens on the
        simulator's loop, soon after the call returns.
        """
        contract_id = _contract_or_raise(symbol)["id"]
        if not (isinstance(price, int | float) and price > 0):
            raise ValueError(f"a price must be a positive number, not {price!r}")
        self.on_loop(lambda: self.market.set(contract_id, float(price)))

    def throttle_authorize(self, times: int = 1, penalty: Any = 1.0) -> None:
        """The next ``times`` authorize requests get a time penalty of ``penalty`` seconds
        (the ``p-time`` sent as given, so a test may send any JSON value), or HTTP 429 when
        ``penalty`` is None, instead of their answer. Safe from any thread."""

        self.on_loop(lambda: self._refusals.arm("authorize", penalty, times))

    def refuse_syncs(
        self, times: int = 1, status: int = 500, error_text: str = "Try later"
    ) -> None:
        """The next ``times`` ``user/syncrequest`` requests are answered with HTTP ``status``
        and ``error_text`` instead of the snapshot. Safe from any thread."""
        self.on_loop(lambda: self._refusals.arm("sync", (status, error_text), times))

    def sync_refused(self) -> tuple[bool, Any]:
        """Whether the sync request now received is to be refused, and how."""
        return self._refusals.take("sync")

    def authorize_throttled(self) -> tuple[bool, Any]:
        """Whether the authorize request now received is to be refused, and its penalty."""
        return self._refusals.take("authorize")

    def sync_snapshot(self) -> SyncSnapshot:
        """What ``user/syncrequest`` answers now (call in the loop)."""
        book = self.book
        return SyncSnapshot(
            users=[USER],
            accounts=[book.account],
            positions=list(book.positions.values()),
            orders=list(book.orders.values()),
            order_versions=list(book.all_versions),
            execution_reports=list(book.reports),
            fills=list(book.fills),
            fill_pairs=list(book.fill_pairs),
            cash_balances=[book.cash],
            contracts=[_public(c) for c in CONTRACTS.values()],
        )

    def account_state(self, timeout: float = 10.0) -> TradovateStateSnapshot:
        """The server's truth now, as the core reducer gives a client's: its own sync answer
        fed to a ``TradovateAccountState``. Safe from any thread."""

        def take() -> TradovateStateSnapshot:
            state = TradovateAccountState()
            state.apply_snapshot(self.sync_snapshot())
            return state.snapshot()

        return self.read_on_loop(take, timeout)

    def orders_received(self, timeout: float = 10.0) -> dict[str, int]:
        """How many ``order/placeorder`` requests the simulator took, by ``clOrdId`` (those
        without one under ""), so a test can prove that no order reached it twice. Safe from
        any thread."""
        return self.read_on_loop(lambda: dict(self.book.received), timeout)

    def _publish(self, entity_type: str, event_type: str, entity: Any) -> None:
        """An entity changed: every synced trading session gets the ``props`` event."""
        for session in self.sessions():
            if session.synced:
                session.props(entity_type, event_type, entity)

    def next_id(self) -> int:
        return next(self._ids)

    def make_session(self, driver: Driver, fault: Fault | None) -> _TradovateSession:
        return _TradovateSession(self, driver, fault)

    def shutdown(self, reason_code: str = "Maintenance", reason: str | None = None) -> None:
        """Send every client ``shutdown`` and close, as before maintenance (call in the loop)."""
        for session in self.sessions():
            session.announce_shutdown(reason or "", reason_code)
            session.close_with(1001, "shutdown")
            session.driver.flush()


class _TradovateSession(SimulatedSession):
    """One client's conversation with the simulator."""

    def __init__(self, sim: TradovateSimulator, driver: Driver, fault: Fault | None) -> None:
        self.sim = sim
        self.conn: TradovateServerConnection = TradovateServerConnection(
            heartbeat_interval=sim.heartbeat_interval, idle_timeout=sim.idle_timeout
        )
        super().__init__(driver, fault)
        self.path = COMBINED_PATH
        self.authorized = False
        self.synced = False
        self._requests = RateWindow(sim.request_limit)
        self._penalty_until = 0.0
        self._quotes: dict[int, asyncio.Task[None]] = {}
        self._doms: dict[int, asyncio.Task[None]] = {}
        self._charts: dict[int, tuple[int, asyncio.Task[None]]] = {}
        self._clock: asyncio.Task[None] | None = None
        self._clock_speed = 100

    # -- protocol events ---------------------------------------------------------------------------

    def handle(self, events: list[object]) -> None:
        for event in events:
            if isinstance(event, ConnectionRequest):
                self.path = event.target.split("?", 1)[0]
                if self.path in (MD_PATH, TRADING_PATH, COMBINED_PATH):
                    self.conn.accept(now=self.driver.now())
                else:
                    self.conn.reject(404, b"no such socket")
            elif isinstance(event, ClientRequest):
                self._request(event.request)

    def announce_shutdown(self, reason: str, reason_code: str = "Maintenance") -> None:
        data: dict[str, Any] = {"reasonCode": reason_code}
        if reason:
            data["reason"] = reason
        if not self.driver.closed:
            self.conn.send_event("shutdown", data)

    def close_with(self, code: int, reason: str) -> None:
        if self.conn.opened:
            self.conn.close(code, reason, now=self.driver.now())

    # -- requests ----------------------------------------------------------------------------------

    def _answer(self, request_id: int, status: int = 200, data: Any = None) -> None:
        self.respond(lambda: self.conn.respond(request_id, status, data))

    def _event(self, kind: str, data: Any) -> bool:
        return self.deliver(lambda: self.conn.send_event(kind, data))

    def _request(self, doc: RequestDocument) -> None:
        endpoint = doc.endpoint.lower()
        if self._rate_limited(doc):
            return
        if endpoint == "authorize":
            self.sim.authorize_requests += 1
            throttled, penalty = self.sim.authorize_throttled()
            if throttled:
                self._throttled(doc, penalty)
                return
            market_data = self.path == MD_PATH
            token = self.sim.md_token if market_data else self.sim.token
            self.authorized = doc.body == token or self.sim.auth.accepts(
                doc.body, market_data=market_data
            )
            if self.authorized:
                self._answer(doc.request_id)
            else:
                self._answer(doc.request_id, 401, "Invalid access token")
            return
        if not self.authorized:
            self._answer(doc.request_id, 401, "Access is denied")
            return
        try:
            body = doc.json_body()
        except JSONDecodeError:
            self._answer(doc.request_id, 400, "Malformed JSON body")
            return
        handler = _ENDPOINTS.get(endpoint)
        market_data = endpoint.startswith("md/")
        if (self.path == MD_PATH and not market_data) or (
            self.path == TRADING_PATH and market_data
        ):
            handler = None
        if handler is None:
            self._answer(doc.request_id, 404, f"Not found: {doc.endpoint}")
            return
        handler(self, doc, body if isinstance(body, dict) else {})

    def _throttled(self, doc: RequestDocument, penalty: Any) -> None:
        if penalty is None:
            self._answer(doc.request_id, 429, "Too Many Requests")
        else:
            ticket = secrets.token_urlsafe(12)
            self._answer(
                doc.request_id, 200, {"p-ticket": ticket, "p-time": penalty, "p-captcha": False}
            )

    def _rate_limited(self, doc: RequestDocument) -> bool:
        now = self.driver.now()
        if now < self._penalty_until:
            self._answer(doc.request_id, 429, "Too Many Requests")
            return True
        if self._requests.admit(now):
            return False
        ticket = secrets.token_urlsafe(12)
        self._penalty_until = now + self.sim.penalty_seconds
        self._requests.clear()
        penalty = {"p-ticket": ticket, "p-time": self.sim.penalty_seconds, "p-captcha": False}
        self._answer(doc.request_id, 200, penalty)
        return True

    def _contract(self, symbol: Any) -> dict[str, Any] | None:
        if isinstance(symbol, int):
            return _BY_ID.get(symbol)
        return CONTRACTS.get(str(symbol))

    def contract_find(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        name = parse_qs(doc.query).get("name", [body.get("name")])[0]
        contract = self._contract(name)
        if contract is None:
            self._answer(doc.request_id, 404, f"Not found: contract {name}")
        else:
            self._answer(doc.request_id, 200, _public(contract))

    def contract_item(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        raw = parse_qs(doc.query).get("id", [body.get("id")])[0]
        text = str(raw) if type(raw) in (int, str) else ""
        contract = _BY_ID.get(int(text)) if text.isdigit() and len(text) <= 18 else None
        if contract is None:
            self._answer(doc.request_id, 404, f"Not found: contract id {text[:40]}")
        else:
            self._answer(doc.request_id, 200, _public(contract))

    def account_list(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        self._answer(doc.request_id, 200, [self.sim.book.account])

    def sync_request(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        refused, how = self.sim.sync_refused()
        if refused:
            self._answer(doc.request_id, *how)
            return
        self.synced = True
        answer = msgspec.to_builtins(self.sim.sync_snapshot())
        for name in _SYNC_ARRAYS:
            answer.setdefault(name, [])
        self._answer(doc.request_id, 200, answer)

    def place_order(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        cl_ord_id = body.get("clOrdId")
        self.sim.book.received[cl_ord_id if isinstance(cl_ord_id, str) else ""] += 1
        contract = self._contract(body.get("symbol"))
        if contract is None:
            self._answer(doc.request_id, 200, refusal("UnknownReason", "Unknown symbol"))
            return
        if not self._own_account(body):
            self._answer(doc.request_id, 200, refusal("Unauthorized", "Unknown account"))
            return
        # A contract may be named by its id; the model takes the name.
        order = _read(dict(body, symbol=contract["name"]), PlaceOrder, orderType="Market")
        if isinstance(order, str):
            self._answer(doc.request_id, 200, _invalid(PlaceOrderResult, order))
        else:
            self._command(doc, lambda: self.sim.book.place(contract["id"], order))

    def cancel_order(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        cancel = _read(body, CancelOrder)
        if isinstance(cancel, str):
            self._answer(doc.request_id, 200, _invalid(CommandResult, cancel))
        else:
            self._command(doc, lambda: self.sim.book.cancel(cancel))

    def modify_order(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        modify = _read(body, ModifyOrder, orderType="Market")
        if isinstance(modify, str):
            self._answer(doc.request_id, 200, _invalid(CommandResult, modify))
        else:
            self._command(doc, lambda: self.sim.book.modify(modify))

    def liquidate_position(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        contract = self._contract(body.get("contractId"))
        if contract is None:
            self._answer(doc.request_id, 200, refusal("InvalidContract", "Unknown contract"))
            return
        if not self._own_account(body):
            self._answer(doc.request_id, 200, refusal("Unauthorized", "Unknown account"))
            return
        request = _read(body, LiquidatePosition, accountId=self.sim.account_id, admin=False)
        if isinstance(request, str):
            self._answer(doc.request_id, 200, _invalid(PlaceOrderResult, request))
        else:
            self._command(doc, lambda: self.sim.book.liquidate(contract["id"], request.admin))

    def _own_account(self, body: dict[str, Any]) -> bool:
        account = body.get("accountId", self.sim.account_id)
        spec = body.get("accountSpec", self.sim.account_name)
        return bool(account == self.sim.account_id and spec == self.sim.account_name)

    def _command(self, doc: RequestDocument, run: Callable[[], Any]) -> None:
        """Answer a command, then send the entity events it caused (after the answer, as the
        service does)."""
        events: list[tuple[str, str, Any]] = []
        publish = self.sim.book.publish
        self.sim.book.publish = lambda *change: events.append(change)
        try:
            answer = run()
        finally:
            self.sim.book.publish = publish
        self._answer(doc.request_id, 200, answer)
        for change in events:
            publish(*change)

    def renew_access_token(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        """``auth/renewaccesstoken`` over the socket: the same tokens, a later expiry."""
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=90)
        answer = {
            "accessToken": self.sim.token,
            "mdAccessToken": self.sim.md_token,
            "expirationTime": _iso(expiry),
            "userStatus": "Active",
            "userId": USER_ID,
            "name": "simulated-user",
            "hasLive": False,
        }
        self._answer(doc.request_id, 200, answer)

    def order_list(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        self._answer(doc.request_id, 200, list(self.sim.book.orders.values()))

    def position_list(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        self._answer(doc.request_id, 200, list(self.sim.book.positions.values()))

    def cash_balance_snapshot(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        if body.get("accountId") != self.sim.account_id:
            self._answer(doc.request_id, 200, {"errorText": "Unknown account"})
        else:
            self._answer(doc.request_id, 200, self.sim.book.cash_snapshot())

    def props(self, entity_type: str, event_type: str, entity: Any) -> None:
        self._event("props", _Props(entity_type, event_type, entity))

    def subscribe_quote(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        unknown = {
            "mode": "None",
            "errorCode": "UnknownSymbol",
            "errorText": f"Unknown symbol {body.get('symbol')}",
        }
        self._subscribe(doc, body, self._quotes, self._stream_quotes, unknown)

    def unsubscribe_quote(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        self._unsubscribe(doc, body, self._quotes)

    def _subscribe(
        self,
        doc: RequestDocument,
        body: dict[str, Any],
        streams: dict[int, asyncio.Task[None]],
        stream: Callable[[int], Coroutine[Any, Any, None]],
        unknown: dict[str, Any],
    ) -> None:
        """Answer a market-data subscription and start its stream (once per contract)."""
        contract = self._contract(body.get("symbol"))
        if contract is None:
            self._answer(doc.request_id, 200, unknown)
            return
        self._answer(doc.request_id, 200, {"mode": "RealTime", "errorCode": "Success"})
        if contract["id"] not in streams:
            streams[contract["id"]] = self.driver.spawn(stream(contract["id"]))

    def _unsubscribe(
        self, doc: RequestDocument, body: dict[str, Any], streams: dict[int, asyncio.Task[None]]
    ) -> None:
        contract = self._contract(body.get("symbol"))
        if contract is not None and contract["id"] in streams:
            streams.pop(contract["id"]).cancel()
        self._answer(doc.request_id, 200, {})

    async def _stream_quotes(self, contract_id: int) -> None:
        market = self.sim.market
        clock = _send_stamp if self.sim.stamp_sends else _wall_clock
        seq = 0

        def quote() -> Quote:
            price = market.tick(contract_id)
            tick = _BY_ID[contract_id]["tickSize"]
            entries = QuoteEntries(
                bid=QuoteEntry(price=round(price - tick, 6), size=10),
                offer=QuoteEntry(price=price, size=12),
                trade=QuoteEntry(price=price, size=1),
                total_trade_volume=QuoteEntry(size=market.volume[contract_id]),
            )
            return Quote(timestamp=clock(), contract_id=contract_id, id=seq, entries=entries)

        async for _ in paced(self.sim.quote_rate, self.driver):
            seq += 1
            if not self._event("md", _Quotes([quote()])):
                return

    def subscribe_dom(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        unknown = {"mode": "None", "errorCode": "UnknownSymbol"}
        self._subscribe(doc, body, self._doms, self._stream_dom, unknown)

    def unsubscribe_dom(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        self._unsubscribe(doc, body, self._doms)

    async def _stream_dom(self, contract_id: int) -> None:
        tick = _BY_ID[contract_id]["tickSize"]
        async for _ in paced(self.sim.dom_rate, self.driver):
            price = self.sim.market.price(contract_id)
            dom = Dom(
                contract_id=contract_id,
                timestamp=_wall_clock(),
                bids=[
                    QuoteEntry(price=round(price - tick * (i + 1), 6), size=10 + i)
                    for i in range(5)
                ],
                offers=[
                    QuoteEntry(price=round(price + tick * i, 6), size=12 + i) for i in range(5)
                ],
            )
            if not self._event("md", _Doms([dom])):
                return

    def get_chart(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        contract = self._contract(body.get("symbol"))
        if contract is None:
            answer = ChartSubscriptionResult(
                mode=SubscriptionMode.NONE, error_code=SubscriptionErrorCode.UNKNOWN_SYMBOL
            )
            self._answer(doc.request_id, 200, answer)
            return
        request = _read(body, GetChart)
        if isinstance(request, str):
            answer = ChartSubscriptionResult(
                mode=SubscriptionMode.NONE,
                error_code=SubscriptionErrorCode.UNKNOWN_REASON,
                error_text=f"Invalid chart request: {request}",
            )
            self._answer(doc.request_id, 200, answer)
            return
        historical_id, realtime_id = self.sim.next_id(), self.sim.next_id()
        answer = ChartSubscriptionResult(
            mode=SubscriptionMode.REAL_TIME, historical_id=historical_id, realtime_id=realtime_id
        )
        self._answer(doc.request_id, 200, answer)
        self.sim.chart_requests += 1
        time_range = msgspec.to_builtins(request.time_range)
        stamps = history_minutes(time_range, _minute_now(), self.sim.chart_batch)
        task = self.driver.spawn(
            self._stream_chart(contract["id"], historical_id, realtime_id, stamps)
        )
        self._charts[realtime_id] = (historical_id, task)

    def cancel_chart(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        wanted = body.get("subscriptionId")
        for realtime_id, (historical_id, task) in list(self._charts.items()):
            if wanted in (realtime_id, historical_id):
                task.cancel()
                del self._charts[realtime_id]
        self._answer(doc.request_id, 200, {})

    async def _stream_chart(
        self, contract_id: int, historical_id: int, realtime_id: int, stamps: list[dt.datetime]
    ) -> None:
        now = _minute_now()
        bars = []
        for stamp in stamps:
            price = history_price(contract_id, stamp, _BY_ID[contract_id]["tickSize"])
            bars.append(
                Bar(
                    timestamp=_iso(stamp),
                    open=price,
                    high=price + 1,
                    low=price - 1,
                    close=price,
                    up_volume=10,
                    down_volume=8,
                    up_ticks=5,
                    down_ticks=4,
                    bid_volume=9,
                    offer_volume=9,
                )
            )
        trade_date = int(now.strftime("%Y%m%d"))
        history = BarPacket(id=historical_id, td=trade_date, bars=bars)
        if bars and not self._event("chart", _Charts([history])):
            return
        if not self._event("chart", _Charts([EndOfHistory(id=historical_id)])):
            return
        async for _ in paced(1.0 / self.sim.bar_interval, self.driver):
            price = self.sim.market.tick(contract_id)
            bar = Bar(
                timestamp=_wall_clock(),
                open=price,
                high=price,
                low=price,
                close=price,
                up_volume=1,
                down_volume=0,
                up_ticks=1,
                down_ticks=0,
                bid_volume=0,
                offer_volume=1,
            )
            live = BarPacket(id=realtime_id, td=trade_date, bars=[bar])
            if not self._event("chart", _Charts([live])):
                return

    def initialize_clock(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        request = _read(body, InitializeClock, speed=100)
        if isinstance(request, str):
            self._answer(doc.request_id, 200, SimpleResponse(ok=False, error_text=request))
            return
        start = request.start_timestamp
        try:
            moment = dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            text = f"Invalid startTimestamp {start!r}"
            self._answer(doc.request_id, 200, SimpleResponse(ok=False, error_text=text))
            return
        if not 0 <= request.speed <= 400:
            text = "speed must be 0 to 400"
            self._answer(doc.request_id, 200, SimpleResponse(ok=False, error_text=text))
            return
        self._clock_speed = request.speed
        self._answer(doc.request_id, 200, SimpleResponse(ok=True))
        if self._clock is not None:
            self._clock.cancel()
        self._clock = self.driver.spawn(self._stream_clock(moment))

    def change_speed(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        request = _read(body, ChangeSpeed)
        if isinstance(request, str) or not 0 <= request.speed <= 400:
            text = "speed must be 0 to 400"
            self._answer(doc.request_id, 200, SimpleResponse(ok=False, error_text=text))
            return
        self._clock_speed = request.speed
        self._answer(doc.request_id, 200, SimpleResponse(ok=True))

    def check_replay_session(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        """Any start that reads as a time may be replayed; anything else is ineligible."""
        request = _read(body, CheckReplaySession)
        ineligible = CheckReplaySessionResponse(check_status=CheckStatus.INELIGIBLE)
        if isinstance(request, str):
            self._answer(doc.request_id, 200, ineligible)
            return
        start = request.start_timestamp
        try:
            dt.datetime.fromisoformat(start.replace("Z", "+00:00"))
        except ValueError:
            self._answer(doc.request_id, 200, ineligible)
            return
        answer = CheckReplaySessionResponse(check_status=CheckStatus.OK, start_timestamp=start)
        self._answer(doc.request_id, 200, answer)

    def start_order_strategy(self, doc: RequestDocument, body: dict[str, Any]) -> None:
        """The strategy's entry order is placed as ``order/placeorder`` would place it; its
        brackets are recorded in ``params`` but not worked."""
        contract = self._contract(body.get("symbol"))
        params = body.get("params")
        try:
            entry = loads(params).get("entryVersion") if isinstance(params, str) else None
        except (JSONDecodeError, AttributeError):
            entry = None
        if contract is None or not isinstance(entry, dict) or not self._own_account(body):
            self._answer(doc.request_id, 200, {"errorText": "Invalid order strategy"})
            return
        fields = {k: v for k, v in entry.items() if k in ("orderQty", "orderType", "price")}
        fields.update(action=body.get("action"), symbol=contract["name"])
        order = _read(fields, PlaceOrder, orderType="Market")
        type_id = body.get("orderStrategyTypeId")
        if isinstance(order, str) or type(type_id) is not int:
            self._answer(doc.request_id, 200, {"errorText": "Invalid order strategy"})
            return

        def run() -> OrderStrategyStatusResponse:
            placed = self.sim.book.place(contract["id"], order)
            if placed.failure_reason is not None:
                text = placed.failure_text or str(placed.failure_reason)
                return OrderStrategyStatusResponse(error_text=text)
            strategy = OrderStrategy(
                id=self.sim.next_id(),
                account_id=self.sim.account_id,
                timestamp=_wall_clock(),
                contract_id=contract["id"],
                order_strategy_type_id=type_id,
                action=order.action,
                params=params,
                status=OrderStrategyStatus.ACTIVE_STRATEGY,
            )
            self.sim.book.publish("orderStrategy", "Created", strategy)
            return OrderStrategyStatusResponse(order_strategy=strategy)

        self._command(doc, run)

    async def _stream_clock(self, moment: dt.datetime) -> None:
        interval = self.sim.clock_interval
        async for _ in paced(1.0 / interval, self.driver):
            moment += dt.timedelta(seconds=interval * self._clock_speed / 100)
            payload = dumps_str(_Clock(_iso(moment), self._clock_speed))
            if not self._event("clock", payload):
                return


_ENDPOINTS: dict[str, Callable[[_TradovateSession, RequestDocument, dict[str, Any]], None]] = {
    "contract/find": _TradovateSession.contract_find,
    "contract/item": _TradovateSession.contract_item,
    "account/list": _TradovateSession.account_list,
    "user/syncrequest": _TradovateSession.sync_request,
    "order/placeorder": _TradovateSession.place_order,
    "order/cancelorder": _TradovateSession.cancel_order,
    "order/modifyorder": _TradovateSession.modify_order,
    "order/liquidateposition": _TradovateSession.liquidate_position,
    "order/list": _TradovateSession.order_list,
    "auth/renewaccesstoken": _TradovateSession.renew_access_token,
    "position/list": _TradovateSession.position_list,
    "cashbalance/getcashbalancesnapshot": _TradovateSession.cash_balance_snapshot,
    "md/subscribequote": _TradovateSession.subscribe_quote,
    "md/unsubscribequote": _TradovateSession.unsubscribe_quote,
    "md/subscribedom": _TradovateSession.subscribe_dom,
    "md/unsubscribedom": _TradovateSession.unsubscribe_dom,
    "md/getchart": _TradovateSession.get_chart,
    "md/cancelchart": _TradovateSession.cancel_chart,
    "replay/initializeclock": _TradovateSession.initialize_clock,
    "replay/changespeed": _TradovateSession.change_speed,
    "replay/checkreplaysession": _TradovateSession.check_replay_session,
    "orderstrategy/startorderstrategy": _TradovateSession.start_order_strategy,
}
