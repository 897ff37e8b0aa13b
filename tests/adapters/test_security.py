"""Secrets stay secret, the wire cannot grow our buffers without end, and nothing from the wire
is ever evaluated. (TLS verification by default is shown in each adapter's tests.)"""

from __future__ import annotations

import ast
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from brokerwire.adapters.errors import AuthenticationError
from brokerwire.adapters.events import Reconnected
from brokerwire.adapters.simulators import CTraderSimulator, Fault, FaultKind, TradovateSimulator
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.adapters.clients import FAST_RECONNECT
from tests.adapters.drivers import ADAPTERS, open_client
from tests.helpers import CHECKOUT, library_sources, server_frame

pytestmark = pytest.mark.timeout(60)

TOKEN = "tv-token-5c1e9a77d0"
CLIENT_SECRET = "ct-secret-91b2f0c4aa"
ACCESS_TOKEN = "ct-access-3d8e6b12fe"
SECRETS = (TOKEN, CLIENT_SECRET, ACCESS_TOKEN)


def _texts(value: Any) -> Iterator[str]:
    yield repr(value)
    yield str(value)


@pytest.mark.parametrize("broker", ["tradovate", "ctrader-ws", "ctrader-tcp"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_no_secret_in_any_log_repr_or_error_at_debug_level(
    adapter: str, broker: str, caplog: pytest.LogCaptureFixture, clean_process: None
) -> None:
    """Connect, authorize, reconnect after a close, be refused: every log record (the
    simulator's included), every repr and every error is scanned for the secrets."""
    seen: list[str] = []
    close = Fault(FaultKind.CLOSE, after=5, code=4000, reason="x")
    with caplog.at_level(logging.DEBUG):
        if broker == "tradovate":
            sim: Any = TradovateSimulator(token=TOKEN, quote_rate=500, faults={1: close})
            with sim:
                url, options = sim.url, {"token": TOKEN}
                with open_client(
                    adapter, "tradovate", url, reconnect=FAST_RECONNECT, **options
                ) as d:
                    d.call("subscribe_quote", "ESZ6")
                    events = d.collect(lambda evs: type(evs[-1]) is Reconnected)
                    seen += [repr(d.client), repr(d.client.registry)]
                with pytest.raises(AuthenticationError) as refused:
                    open_client(adapter, "tradovate", url, token=TOKEN + "-wrong")
        else:
            sim = CTraderSimulator(
                client_secret=CLIENT_SECRET,
                access_token=ACCESS_TOKEN,
                spot_rate=500,
                faults={1: close},
            )
            with sim:
                url = sim.websocket_url if broker == "ctrader-ws" else sim.tcp_url
                options = {
                    "client_id": sim.client_id,
                    "client_secret": CLIENT_SECRET,
                    "access_token": ACCESS_TOKEN,
                }
                with open_client(adapter, "ctrader", url, reconnect=FAST_RECONNECT, **options) as d:
                    d.call("authorize_account", sim.accounts[0])
                    d.call("get_accounts")
                    d.call("subscribe_spots", sim.accounts[0], 1)
                    events = d.collect(lambda evs: type(evs[-1]) is Reconnected)
                    seen += [repr(d.client), repr(d.client.registry)]
                options["client_secret"] = CLIENT_SECRET + "-wrong"
                with pytest.raises(AuthenticationError) as refused:
                    open_client(adapter, "ctrader", url, **options)
    for value in [*events, refused.value, *caplog.records]:
        seen.extend(_texts(value))
    seen.append(caplog.text)
    assert any(
        r.levelno == logging.DEBUG and r.name.startswith("brokerwire") for r in caplog.records
    )
    for text in seen:
        for secret in SECRETS:
            assert secret not in text, text


# -- buffers --------------------------------------------------------------------------------------


class PingFlood:
    """A WebSocket server that opens a Tradovate session, then sends pings as fast as it can
    and never reads what the client sends back."""

    PING = server_frame(0x9, b"p" * 125)

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/v1/websocket"
        self._thread = threading.Thread(target=self._serve, name="ping-flood")
        self._thread.start()

    def _serve(self) -> None:
        with self._listener:
            self._listener.settimeout(10)
            peer, _ = self._listener.accept()
        with peer:
            peer.settimeout(10)
            server = WebSocketConnection(Role.SERVER)
            while not server.receive_data(peer.recv(65536), 0.0):
                pass
            server.accept()
            peer.sendall(server.data_to_send() + server_frame(0x1, b"o"))
            peer.settimeout(1.0)  # a client that stopped reading makes sendall time out
            burst = self.PING * 512
            try:
                while self.sent < self.total:
                    peer.sendall(burst)
                    self.sent += len(burst)
            except TimeoutError:
                pass
            time.sleep(0.2)

    def join(self) -> None:
        self._thread.join(30)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_ping_flood_that_never_reads_the_pongs_stops_the_reading(
    adapter: str, clean_process: None
) -> None:
    total = 256 * 1024 * 1024
    flood = PingFlood(total)
    with open_client(adapter, "tradovate", flood.url, reconnect=False, token=None):
        flood.join()
    # Kernel buffers on both sides hold a few MiB; the client itself stopped at 1 MiB unsent.
    assert flood.sent < 64 * 1024 * 1024, f"the client read {flood.sent} bytes of pings"


# -- nothing from the wire is evaluated --------------------------------------------------------


FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "input"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "marshal", "shelve", "dill", "yaml", "jsonpickle"}


def _sources() -> list[Path]:
    return library_sources("core", "adapters")  # the same tree the import rule scans


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(CHECKOUT)))
def test_no_eval_pickle_or_similar_in_the_library(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in FORBIDDEN_CALLS, f"{path}:{node.lineno} calls {node.func.id}"
        if isinstance(node, ast.Import):
            names = {alias.name.split(".")[0] for alias in node.names}
            assert not names & FORBIDDEN_MODULES, f"{path}:{node.lineno} imports {names}"
        if isinstance(node, ast.ImportFrom) and node.module:
            assert node.module.split(".")[0] not in FORBIDDEN_MODULES, f"{path}:{node.lineno}"


def test_the_scan_sees_the_library() -> None:
    names = {p.name for p in _sources()}
    assert {"connection.py", "threaded.py", "asyncio.py", "codec.py", "jsonlib.py"} <= names
