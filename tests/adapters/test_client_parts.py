"""The clients' parts that need no socket: URLs, backoff, the event queue, the engine."""

from __future__ import annotations

import random
import ssl
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest

from brokerwire.adapters.endpoint import parse_url
from brokerwire.adapters.engine.client_engine import Phase, describe
from brokerwire.adapters.engine.ctrader import CTraderCall, CTraderEngine, _member
from brokerwire.adapters.engine.event_queue import EventBuffer
from brokerwire.adapters.engine.tradovate import TradovateCall, TradovateCalls, TradovateEngine
from brokerwire.adapters.errors import ConnectError, ConnectionLost, RequestRefused, Throttled
from brokerwire.adapters.events import Disconnected, Reconnected
from brokerwire.adapters.reconnect import ReconnectPolicy
from brokerwire.core.ctrader import OrderType, TradeSide
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tradovate import TradovateConnection, TradovateServerConnection
from brokerwire.core.tradovate.rules import (
    error_text_refusal,
    is_authorize,
    order_refusal,
    places_orders,
)
from brokerwire.core.websocket import ConnectionRequest

WS = frozenset({"ws", "wss"})
ALL = frozenset({"ws", "wss", "tcp", "tls"})


def test_urls() -> None:
    md = parse_url("wss://md.tradovateapi.com/v1/websocket", schemes=WS)
    assert (md.host, md.port, md.target, md.transport, md.tls) == (
        "md.tradovateapi.com",
        443,
        "/v1/websocket",
        "ws",
        True,
    )
    assert md.host_header == "md.tradovateapi.com"
    plain = parse_url("ws://127.0.0.1:8080", schemes=WS, default_target="/v1/websocket")
    assert (plain.target, plain.host_header, plain.tls) == (
        "/v1/websocket",
        "127.0.0.1:8080",
        False,
    )
    raw = parse_url("tls://demo.ctraderapi.com:5036", schemes=ALL)
    assert (raw.transport, raw.tls, raw.port) == ("tcp", True, 5036)
    secret = parse_url("wss://user:pw@host.example:5036/path?token=abc", schemes=ALL)
    assert secret.display() == "wss://host.example:5036/path"
    assert parse_url("ws://[::1]:9/", schemes=WS).host_header == "[::1]:9"
    for bad, message in [
        ("http://x", "unsupported URL scheme"),
        ("ws://", "names no host"),
        ("ws://h:99999", "invalid port"),
        ("tcp://h", "needs a port"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_url(bad, schemes=ALL)


def test_tls_context_defaults_to_verified() -> None:
    endpoint = parse_url("wss://h", schemes=WS)
    context = endpoint.ssl_context(None)
    assert context is not None
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    own = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    assert endpoint.ssl_context(own) is own
    assert parse_url("ws://h", schemes=WS).ssl_context(own) is None


def test_backoff_grows_caps_jitters_and_stops() -> None:
    policy = ReconnectPolicy(
        initial_delay=1, max_delay=8, jitter=0.5, max_attempts=6, rng=random.Random(3)
    )
    delays = [policy.delay(n) for n in range(1, 8)]
    bases = [1, 2, 4, 8, 8, 8]
    for delay, base in zip(delays, bases, strict=False):
        assert delay is not None
        assert base * 0.5 <= delay <= base
    assert delays[-1] is None
    steady = ReconnectPolicy(initial_delay=1, jitter=0)
    assert [steady.delay(n) for n in (1, 2, 3)] == [1, 2, 4]
    assert len({ReconnectPolicy(rng=random.Random(s)).delay(1) for s in range(5)}) == 5
    assert ReconnectPolicy.from_option(False) is None
    assert ReconnectPolicy.from_option(True) == ReconnectPolicy()
    assert ReconnectPolicy.from_option(steady) is steady
    for options in ({"multiplier": 0.5}, {"jitter": 2}, {"max_attempts": 0}, {"max_delay": 0.1}):
        with pytest.raises(ValueError, match=r"must be|need"):
            ReconnectPolicy(**options)


def now(value: Any) -> Any:
    """A state read through a call: mypy would keep an earlier check's narrowing of it."""
    return value


def test_event_buffer_pauses_full_and_resumes_at_half() -> None:
    buffer = EventBuffer(4)
    buffer.push([1, 2, 3])
    assert not buffer.full
    buffer.push([4, 5])
    assert now(buffer.full)
    assert [buffer.pop() for _ in range(2)] == [1, 2]
    assert not buffer.drained
    buffer.pop()
    assert now(buffer.drained)
    with pytest.raises(ValueError, match="at least one"):
        EventBuffer(0)


def test_enum_arguments_by_member_name_or_number() -> None:
    assert _member(TradeSide, "sell") == 2
    assert _member(OrderType, OrderType.LIMIT) == 2
    assert _member(OrderType, 3) == 3
    with pytest.raises(ValueError, match="use one of BUY, SELL"):
        _member(TradeSide, "hold")


def test_calls_hide_credentials() -> None:
    authorize = TradovateCall("authorize", None, "secret-token")
    assert "secret-token" not in repr(authorize)
    auth = CTraderCall(2100, {"clientId": "id", "clientSecret": "very-secret"})
    assert "very-secret" not in repr(auth)
    assert CTraderCall(2106, {}).is_order
    assert TradovateCall("order/placeOrder").is_order
    assert not TradovateCall("order/list").is_order


def test_describe_connect_failures() -> None:
    assert describe(ConnectionRefusedError(111, "Connection refused")) == (
        "the connection was refused"
    )
    assert "timed out" in describe(TimeoutError("timed out"))
    assert describe(OSError(101, "Network is unreachable")) == "network is unreachable"


class _Server:
    """A Tradovate server role wired back to back with an engine's core connection."""

    def __init__(self, engine: TradovateEngine, now: float = 0.0) -> None:
        self.engine = engine
        self.server = TradovateServerConnection()
        self.events: list[Any] = []
        self.engine.begin(now)
        self.pump(now)

    def pump(self, now: float) -> list[Any]:
        """Move bytes both ways until quiet; returns the server's events."""
        seen = []
        for _ in range(10):
            to_server = self.engine.data_to_send()
            if to_server:
                for event in self.server.receive_data(to_server, now):
                    if isinstance(event, ConnectionRequest):
                        self.server.accept(now=now)
                    seen.append(event)
            to_client = self.server.data_to_send()
            if to_client:
                self.events += self.engine.feed(to_client, now)
            if not to_server and not to_client:
                break
        return seen


def engine(**options: Any) -> TradovateEngine:
    endpoint = parse_url("ws://127.0.0.1:1", schemes=WS, default_target="/v1/websocket")
    settings: dict[str, Any] = {"token": "tok", "reconnect": ReconnectPolicy(jitter=0)}
    settings.update(options)
    return TradovateEngine(endpoint, **settings)


def test_engine_requests_outcomes_and_link_loss() -> None:
    tradovate = engine()
    connected: Future[None] = Future()
    tradovate.expect(connected)
    link = _Server(tradovate)
    # The server saw the upgrade and authorize; answer authorize.
    link.server.respond(1, 200, None)
    link.pump(0.0)
    assert connected.result(0) is None
    assert tradovate.ready
    done: Future[Any] = Future()
    order: Future[Any] = Future()
    tradovate.submit(TradovateCall("account/list"), done, 1.0)
    order_id = tradovate.submit(TradovateCall("order/placeorder", None, {"x": 1}), order, 1.0)
    link.pump(1.0)
    link.server.respond(2, 200, [{"id": 1}])
    link.pump(1.0)
    assert done.result(0) == [{"id": 1}]
    limited: Future[Any] = Future()
    tradovate.submit(TradovateCall("account/list"), limited, 1.0)
    link.pump(1.0)
    link.server.respond(4, 200, {"p-ticket": "T", "p-time": 5})
    link.pump(1.0)
    penalty = limited.exception(0)
    assert isinstance(penalty, Throttled)
    assert (penalty.retry_after, penalty.ticket) == (5.0, "T")
    events = tradovate.feed(b"", 2.0)
    error = order.exception(0)
    assert isinstance(error, ConnectionLost)
    assert error.outcome_unknown
    [disconnected] = events
    assert type(disconnected) is Disconnected
    assert disconnected.reconnecting
    assert [o.request_id for o in disconnected.unknown_orders] == [order_id]
    assert tradovate.phase is Phase.DOWN
    with pytest.raises(ConnectionLost, match="not sent") as not_sent:
        tradovate.submit(TradovateCall("account/list"), Future(), 2.0)
    assert not not_sent.value.outcome_unknown
    assert tradovate.next_delay() == 0.5
    # Reconnect: authorize again, then a Reconnected event.
    again = _Server(tradovate, 3.0)
    again.server.respond(1, 200, None)
    again.pump(3.0)
    assert [type(e) for e in again.events] == [Reconnected]
    assert tradovate.close(4.0) == []
    assert now(tradovate.phase) is Phase.CLOSING
    with pytest.raises(LocalProtocolError):
        tradovate.submit(TradovateCall("account/list"), Future(), 4.0)


def test_engine_refused_token_fails_the_first_connect() -> None:
    tradovate = engine(token="bad")
    connected: Future[None] = Future()
    tradovate.expect(connected)
    link = _Server(tradovate)
    link.server.respond(1, 401, "Invalid access token")
    link.pump(0.0)
    link.pump(0.0)
    error = connected.exception(0)
    assert isinstance(error, ConnectError)
    assert "Invalid access token" in str(error)
    assert tradovate.finished


def test_engine_without_credentials_is_ready_when_open() -> None:
    endpoint = parse_url("tcp://127.0.0.1:1", schemes=ALL)
    ctrader = CTraderEngine(
        endpoint, client_id=None, client_secret=None, access_token=None, reconnect=None
    )
    connected: Future[None] = Future()
    ctrader.expect(connected)
    ctrader.begin(0.0)
    assert connected.result(0) is None
    assert ctrader.finish("closed") == []
    assert ctrader.finished


def _public_classes(package: Any) -> dict[str, set[type]]:
    import importlib
    import pkgutil

    found: dict[str, set[type]] = {}
    for module_info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, type):
                found.setdefault(name, set()).add(value)
    return found


def test_no_core_event_shares_a_name_with_an_adapter_class() -> None:
    """``except ErrorResponse`` with the core's event raises TypeError: the names must differ."""
    import brokerwire.adapters
    import brokerwire.core

    core = _public_classes(brokerwire.core)
    adapters = _public_classes(brokerwire.adapters)
    assert {"ErrorResponse", "RateLimited", "Penalty", "Response"} <= set(core)
    assert {"RequestRefused", "Throttled", "RequestTimeout", "ConnectionLost"} <= set(adapters)
    shared = {name for name in set(core) & set(adapters) if core[name] != adapters[name]}
    assert shared == set()


def test_tradovate_rules_read_refusals_in_2xx_answers() -> None:
    assert places_orders("Order/PlaceOrder")
    assert not places_orders("order/list")
    assert is_authorize("AUTHORIZE")
    assert error_text_refusal({"errorText": "Unknown symbol", "errorCode": "UnknownSymbol"}) == (
        "Unknown symbol",
        "UnknownSymbol",
    )
    assert error_text_refusal({"errorText": ""}) is None
    assert error_text_refusal([1, 2]) is None
    assert order_refusal({"failureReason": "Success", "orderId": 5}) is None
    assert order_refusal({"failureReason": "UnknownReason"}) == ("UnknownReason", "UnknownReason")
    assert order_refusal({"failureReason": "RiskCheck", "failureText": "No margin"}) == (
        "No margin",
        "RiskCheck",
    )


def test_engine_turns_a_refusing_2xx_answer_into_request_refused() -> None:
    tradovate = engine()
    link = _Server(tradovate)
    link.server.respond(1, 200, None)
    link.pump(0.0)
    order: Future[Any] = Future()
    call = TradovateCall("order/placeorder", None, {"x": 1}, None, order_refusal)
    tradovate.submit(call, order, 1.0)
    link.pump(1.0)
    link.server.respond(2, 200, {"failureReason": "RiskCheck", "failureText": "No margin"})
    link.pump(1.0)
    refused = order.exception(0)
    assert isinstance(refused, RequestRefused)
    assert (refused.message, refused.code, refused.status) == ("No margin", "RiskCheck", 200)


class _WatchedConnection(TradovateConnection):
    """Records every call made into it while one of its ``receive_events`` generators is
    suspended (the contract forbids them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suspended = False
        self.calls_while_suspended: list[str] = []

    def receive_events(self, data: bytes, now: float) -> Iterator[Any]:
        for event in super().receive_events(data, now):
            self.suspended = True
            try:
                yield event
            finally:
                self.suspended = False

    def _note(self, name: str) -> None:
        if self.suspended:
            self.calls_while_suspended.append(name)

    def authorize(self, *args: Any, **kwargs: Any) -> int:
        self._note("authorize")
        return super().authorize(*args, **kwargs)

    def request(self, *args: Any, **kwargs: Any) -> int:
        self._note("request")
        return super().request(*args, **kwargs)

    def replay_subscriptions(self, *args: Any, **kwargs: Any) -> list[int]:
        self._note("replay_subscriptions")
        return super().replay_subscriptions(*args, **kwargs)


class _WatchedEngine(TradovateEngine):
    def make_connection(self) -> TradovateConnection:
        self.watched = _WatchedConnection(
            self.endpoint.host_header, target=self.endpoint.target, registry=self.registry
        )
        return self.watched


def test_engine_calls_no_connection_while_its_event_generator_is_suspended() -> None:
    """The ``o`` frame makes the engine authorize, the answer makes it resubscribe: both act
    on the connection, so both wait until its events are all decoded."""
    watched = _WatchedEngine(
        parse_url("ws://127.0.0.1:1", schemes=WS, default_target="/v1/websocket"),
        token="tok",
        reconnect=ReconnectPolicy(jitter=0),
    )
    watched.registry.request_succeeded("md/subscribeQuote", None, {"symbol": "ESZ6"}, {})
    link = _Server(watched)
    link.server.respond(1, 200, None)
    seen = link.pump(0.0)
    assert watched.ready
    assert [event.request.endpoint for event in seen] == ["md/subscribeQuote"]
    assert watched.watched.calls_while_suspended == []


def test_engine_hands_each_read_and_its_connection_number_to_on_received() -> None:
    tradovate = engine(token=None)
    reads: list[tuple[bytes, int]] = []
    tradovate.on_received = lambda data, connection: reads.append((data, connection))
    _Server(tradovate)
    assert tradovate.ready
    assert reads
    assert {connection for _, connection in reads} == {1}
    assert b"".join(data for data, _ in reads).startswith(b"HTTP/1.1 101")
    tradovate.feed(b"", 1.0)
    assert tradovate.phase is Phase.DOWN

    def broken(data: bytes, connection: int) -> None:
        reads.append((data, connection))
        raise RuntimeError("a recorder that fails")

    tradovate.on_received = broken
    again = _Server(tradovate, 2.0)
    assert tradovate.ready, "a failing hook does not stop the client"
    assert [type(event) for event in again.events] == [Reconnected]
    assert reads[-1][1] == 2


def test_a_client_class_without_an_adapter_cannot_be_made() -> None:
    class CallsAlone(TradovateCalls[Any, Any]):
        pass

    with pytest.raises(TypeError, match="abstract"):
        CallsAlone("ws://127.0.0.1:1")  # type: ignore[abstract]
