"""Every (state, input) pair of the two client connections (and of the WebSocket under them),
against tables written out here.

Each expected table below is written from the protocols, not copied from the code. For every
pair the test checks the code's table, then drives a real connection into the state, makes
the input happen with real bytes or calls, and checks where the connection ends up. A pair is
REFUSED when the input is a call the state does not allow (``LocalProtocolError``), and
IMPOSSIBLE when nothing can make it happen in that state; the code's table has neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from brokerwire.core._states import move
from brokerwire.core.ctrader import (
    CTRADER_TRANSITIONS,
    CTraderConnection,
    CTraderInput,
    CTraderState,
)
from brokerwire.core.errors import LocalProtocolError
from brokerwire.core.tradovate import (
    TRADOVATE_TRANSITIONS,
    TradovateConnection,
    TradovateInput,
    TradovateState,
)
from brokerwire.core.transport import TransportState
from brokerwire.core.websocket import (
    WEBSOCKET_TRANSITIONS,
    Role,
    WebSocketConnection,
    WebSocketInput,
)
from tests.core.ctrader.helpers import wire
from tests.core.tradovate.helpers import frames, reply

REFUSED = "refused"
IMPOSSIBLE = "impossible"


class Impossible(Exception):
    """The input cannot be made to happen in this state."""


# -- Tradovate -------------------------------------------------------------------------------

T, TI = TradovateState, TradovateInput
TRADOVATE_EXPECTED: dict[TradovateState, dict[TradovateInput, Any]] = {
    T.CONNECTING: {
        TI.OPEN_FRAME: T.OPEN,
        TI.AUTHORIZED: REFUSED,  # no request before the open frame
        TI.CLOSE_FRAME: T.CLOSING,
        TI.CLOSE: T.CLOSING,
        TI.ABANDON: T.CLOSED,
        TI.END: T.CLOSED,
    },
    T.OPEN: {
        TI.OPEN_FRAME: T.OPEN,
        TI.AUTHORIZED: T.AUTHORIZED,
        TI.CLOSE_FRAME: T.CLOSING,
        TI.CLOSE: T.CLOSING,
        TI.ABANDON: IMPOSSIBLE,
        TI.END: T.CLOSED,
    },
    T.AUTHORIZED: {
        TI.OPEN_FRAME: T.AUTHORIZED,
        TI.AUTHORIZED: REFUSED,  # authorizing twice is a mistake
        TI.CLOSE_FRAME: T.CLOSING,
        TI.CLOSE: T.CLOSING,
        TI.ABANDON: IMPOSSIBLE,
        TI.END: T.CLOSED,
    },
    T.CLOSING: {
        TI.OPEN_FRAME: T.CLOSING,
        TI.AUTHORIZED: T.CLOSING,  # the answer crossed our close: too late to count
        TI.CLOSE_FRAME: T.CLOSING,
        TI.CLOSE: REFUSED,
        TI.ABANDON: IMPOSSIBLE,
        TI.END: T.CLOSED,
    },
    T.CLOSED: {
        TI.OPEN_FRAME: T.CLOSED,
        TI.AUTHORIZED: REFUSED,
        TI.CLOSE_FRAME: T.CLOSED,
        TI.CLOSE: REFUSED,
        TI.ABANDON: IMPOSSIBLE,
        TI.END: T.CLOSED,
    },
}


class TradovateLive:
    """A client through a real handshake; ``unread`` is the server's 101, not yet read."""

    def __init__(self) -> None:
        self.conn = TradovateConnection("demo.broker.test")
        server = WebSocketConnection(Role.SERVER)
        server.receive_data(self.conn.data_to_send(), 0.0)
        server.accept()
        self.unread = server.data_to_send()
        self.authorize_id: int | None = None

    def feed(self, data: bytes) -> list[Any]:
        data, self.unread = self.unread + data, b""
        return self.conn.receive_data(data, 1.0)

    def authorize(self) -> None:
        self.authorize_id = self.conn.authorize("token", now=1.0)


def tradovate_in(state: TradovateState) -> TradovateLive:
    live = TradovateLive()
    if state is not T.CONNECTING:
        live.feed(frames("o"))
    if state in (T.OPEN, T.AUTHORIZED, T.CLOSING):
        live.authorize()
    if state is T.AUTHORIZED:
        assert live.authorize_id is not None
        live.feed(frames("a[" + reply(live.authorize_id, 200, {"accessToken": "t"}) + "]"))
        live.authorize_id = None
    if state is T.CLOSING:
        live.conn.close(now=1.0)
    if state is T.CLOSED:
        live.feed(b"")
    assert live.conn.state is state
    return live


def tradovate_authorized(live: TradovateLive) -> None:
    if live.authorize_id is None:
        live.authorize()  # raises where authorize cannot be sent
    assert live.authorize_id is not None
    live.feed(frames("a[" + reply(live.authorize_id, 200, {"accessToken": "t"}) + "]"))


def tradovate_close(live: TradovateLive) -> None:
    if live.unread:
        live.conn.receive_data(live.unread, 1.0)  # the WebSocket opens; no "o" yet
        live.unread = b""
    live.conn.close(now=1.0)


def tradovate_abandon(live: TradovateLive) -> None:
    if not live.unread:
        raise Impossible("the WebSocket handshake is over")
    live.conn.close(now=1.0)


TRADOVATE_INPUTS: dict[TradovateInput, Callable[[TradovateLive], object]] = {
    TI.OPEN_FRAME: lambda live: live.feed(frames("o")),
    TI.AUTHORIZED: tradovate_authorized,
    TI.CLOSE_FRAME: lambda live: live.feed(frames('c[3000,"Go away!"]')),
    TI.CLOSE: tradovate_close,
    TI.ABANDON: tradovate_abandon,
    TI.END: lambda live: live.conn.receive_data(b"", 1.0),  # the stream ends
}


# -- cTrader ---------------------------------------------------------------------------------

C, CI = CTraderState, CTraderInput
CTRADER_EXPECTED: dict[CTraderState, dict[CTraderInput, Any]] = {
    C.CONNECTING: {
        CI.ACCEPTED: C.OPEN,
        CI.APP_AUTHORIZED: REFUSED,  # no request before the handshake
        CI.CLIENT_DISCONNECTED: IMPOSSIBLE,  # no message before the handshake
        CI.CLOSE: C.CLOSING,
        CI.END: C.CLOSED,
    },
    C.OPEN: {
        CI.ACCEPTED: IMPOSSIBLE,
        CI.APP_AUTHORIZED: C.APP_AUTHORIZED,
        CI.CLIENT_DISCONNECTED: C.OPEN,
        CI.CLOSE: C.CLOSING,
        CI.END: C.CLOSED,
    },
    C.APP_AUTHORIZED: {
        CI.ACCEPTED: IMPOSSIBLE,
        CI.APP_AUTHORIZED: C.APP_AUTHORIZED,
        CI.CLIENT_DISCONNECTED: C.OPEN,  # the application must authorize again
        CI.CLOSE: C.CLOSING,
        CI.END: C.CLOSED,
    },
    C.CLOSING: {
        CI.ACCEPTED: IMPOSSIBLE,
        CI.APP_AUTHORIZED: C.CLOSING,  # the answer crossed our close: too late to count
        CI.CLIENT_DISCONNECTED: C.CLOSING,
        CI.CLOSE: REFUSED,
        CI.END: C.CLOSED,
    },
    C.CLOSED: {
        CI.ACCEPTED: IMPOSSIBLE,
        CI.APP_AUTHORIZED: REFUSED,
        CI.CLIENT_DISCONNECTED: C.CLOSED,
        CI.CLOSE: REFUSED,
        CI.END: C.CLOSED,
    },
}


class CTraderLive:
    """A WebSocket client through a real handshake; ``unread`` is the server's 101."""

    def __init__(self) -> None:
        self.conn = CTraderConnection.websocket("demo.broker.test")
        server = WebSocketConnection(Role.SERVER)
        server.receive_data(self.conn.data_to_send(), 0.0)
        server.accept()
        self.unread = server.data_to_send()
        self.app_auth_id: str | None = None

    def feed(self, data: bytes) -> list[Any]:
        data, self.unread = self.unread + data, b""
        return self.conn.receive_data(data, 1.0)

    def open(self) -> None:
        """Read the server's 101: the WebSocket opens."""
        self.conn.receive_data(self.unread, 1.0)
        self.unread = b""

    def message(self, message: dict[str, Any]) -> None:
        if self.unread:
            raise Impossible("no message comes before the handshake")
        self.feed(wire("websocket", message))

    def authorize(self) -> None:
        self.app_auth_id = self.conn.authorize_application("id", "secret", now=1.0)


def ctrader_in(state: CTraderState) -> CTraderLive:
    live = CTraderLive()
    if state is not C.CONNECTING:
        live.open()
    if state in (C.OPEN, C.APP_AUTHORIZED, C.CLOSING):
        live.authorize()
    if state is C.APP_AUTHORIZED:
        live.message({"clientMsgId": live.app_auth_id, "payloadType": 2101})
        live.app_auth_id = None
    if state is C.CLOSING:
        live.conn.close(now=1.0)
    if state is C.CLOSED:
        live.feed(b"")
    assert live.conn.state is state
    return live


def ctrader_accepted(live: CTraderLive) -> None:
    if not live.unread:
        raise Impossible("the handshake is over")
    live.open()


def ctrader_app_authorized(live: CTraderLive) -> None:
    if live.app_auth_id is None:
        live.authorize()  # raises where no request can be sent
    live.message({"clientMsgId": live.app_auth_id, "payloadType": 2101})


CTRADER_INPUTS: dict[CTraderInput, Callable[[CTraderLive], object]] = {
    CI.ACCEPTED: ctrader_accepted,
    CI.APP_AUTHORIZED: ctrader_app_authorized,
    CI.CLIENT_DISCONNECTED: lambda live: live.message(
        {"payloadType": 2148, "payload": {"reason": "maintenance"}}
    ),
    CI.CLOSE: lambda live: live.conn.close(now=1.0),
    CI.END: lambda live: live.conn.receive_data(b"", 1.0),  # the stream ends
}


# -- the walk ----------------------------------------------------------------------------------


def pairs(expected: dict[Any, dict[Any, Any]]) -> list[tuple[Any, Any, Any]]:
    return [(s, i, outcome) for s, row in expected.items() for i, outcome in row.items()]


def test_the_expected_tables_cover_every_pair() -> None:
    for expected, states, inputs in (
        (TRADOVATE_EXPECTED, TradovateState, TradovateInput),
        (CTRADER_EXPECTED, CTraderState, CTraderInput),
        (WEBSOCKET_EXPECTED, TransportState, WebSocketInput),
    ):
        assert set(expected) == set(states)
        for row in expected.values():
            assert set(row) == set(inputs)


def check_table(table: Any, state: Any, happened: Any, outcome: Any) -> None:
    if outcome in (REFUSED, IMPOSSIBLE):
        with pytest.raises(LocalProtocolError):
            move(table, state, happened)
    else:
        assert move(table, state, happened) is outcome


def check_live(conn: Any, act: Callable[[], object], outcome: Any) -> None:
    if outcome is IMPOSSIBLE:
        with pytest.raises(Impossible):
            act()
    elif outcome is REFUSED:
        before = conn.state
        with pytest.raises(LocalProtocolError):
            act()
        assert conn.state is before, "a refused call changes nothing"
    else:
        act()
        assert conn.state is outcome


@pytest.mark.parametrize(
    ("state", "happened", "outcome"),
    pairs(TRADOVATE_EXPECTED),
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_tradovate_pair(state: TradovateState, happened: TradovateInput, outcome: Any) -> None:
    check_table(TRADOVATE_TRANSITIONS, state, happened, outcome)
    live = tradovate_in(state)
    check_live(live.conn, lambda: TRADOVATE_INPUTS[happened](live), outcome)


@pytest.mark.parametrize(
    ("state", "happened", "outcome"),
    pairs(CTRADER_EXPECTED),
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_ctrader_pair(state: CTraderState, happened: CTraderInput, outcome: Any) -> None:
    check_table(CTRADER_TRANSITIONS, state, happened, outcome)
    live = ctrader_in(state)
    check_live(live.conn, lambda: CTRADER_INPUTS[happened](live), outcome)


# -- the WebSocket under both --------------------------------------------------------------------

W, WI = TransportState, WebSocketInput
WEBSOCKET_EXPECTED: dict[TransportState, dict[WebSocketInput, Any]] = {
    W.CONNECTING: {
        WI.OPENED: W.OPEN,
        WI.CLOSE: IMPOSSIBLE,  # close() during the handshake abandons it
        WI.ABANDON: W.CLOSED,
        WI.END: W.CLOSED,
    },
    W.OPEN: {WI.OPENED: IMPOSSIBLE, WI.CLOSE: W.CLOSING, WI.ABANDON: IMPOSSIBLE, WI.END: W.CLOSED},
    W.CLOSING: {WI.OPENED: IMPOSSIBLE, WI.CLOSE: REFUSED, WI.ABANDON: IMPOSSIBLE, WI.END: W.CLOSED},
    W.CLOSED: {WI.OPENED: IMPOSSIBLE, WI.CLOSE: REFUSED, WI.ABANDON: IMPOSSIBLE, WI.END: W.CLOSED},
}


class WebSocketLive:
    def __init__(self) -> None:
        self.conn = WebSocketConnection(Role.CLIENT, host="demo.broker.test")
        server = WebSocketConnection(Role.SERVER)
        server.receive_data(self.conn.data_to_send(), 0.0)
        server.accept()
        self.unread = server.data_to_send()


def websocket_in(state: TransportState) -> WebSocketLive:
    live = WebSocketLive()
    if state is not W.CONNECTING:
        live.conn.receive_data(live.unread, 0.0)
        live.unread = b""
    if state is W.CLOSING:
        live.conn.close()
    if state is W.CLOSED:
        live.conn.receive_data(b"", 0.0)
    assert live.conn.state is state
    return live


def websocket_opened(live: WebSocketLive) -> None:
    if not live.unread:
        raise Impossible("the handshake is over")
    live.conn.receive_data(live.unread, 0.0)


def websocket_close(live: WebSocketLive, *, abandon: bool) -> None:
    if abandon != (live.conn.state is W.CONNECTING):
        raise Impossible("close() abandons a handshake that runs, and only then")
    live.conn.close()


WEBSOCKET_INPUTS: dict[WebSocketInput, Callable[[WebSocketLive], object]] = {
    WI.OPENED: websocket_opened,
    WI.CLOSE: lambda live: websocket_close(live, abandon=False),
    WI.ABANDON: lambda live: websocket_close(live, abandon=True),
    WI.END: lambda live: live.conn.receive_data(b"", 0.0),
}


@pytest.mark.parametrize(
    ("state", "happened", "outcome"),
    pairs(WEBSOCKET_EXPECTED),
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_websocket_pair(state: TransportState, happened: WebSocketInput, outcome: Any) -> None:
    check_table(WEBSOCKET_TRANSITIONS, state, happened, outcome)
    live = websocket_in(state)
    check_live(live.conn, lambda: WEBSOCKET_INPUTS[happened](live), outcome)
