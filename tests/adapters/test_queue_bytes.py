"""The event queue is bounded in bytes as well as in events, against a server that sends large
messages to a program that does not read them.

32 KB entity changes (which can only wait) fill the byte budget: the client stops reading, and
the server stops being able to send. 32 KB quotes of one contract (market data) are conflated:
the client reads them all and holds one.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from brokerwire.core.tradovate import MarketData
from brokerwire.core.websocket import Role, WebSocketConnection
from tests.adapters.drivers import ADAPTERS, open_client
from tests.helpers import server_frame

pytestmark = pytest.mark.timeout(60)

EVENT_SIZE = 32 * 1024
BUDGET = 1024 * 1024
READ_SIZE = 256 * 1024  # what one read of either adapter may take past the budget


def props(n: int) -> bytes:
    entity = {
        "id": n,
        "accountId": 1,
        "timestamp": "2026-12-01T10:00:00Z",
        "action": "Buy",
        "ordStatus": "Working",
        "admin": False,
        "pad": "x" * EVENT_SIZE,
    }
    data = {"entityType": "order", "eventType": "Updated", "entity": entity}
    return ("a" + json.dumps([{"e": "props", "d": data}])).encode()


def quote(n: int) -> bytes:
    entries = {"Bid": {"price": 100.0 + n, "size": 1}, "Pad": {"note": "x" * EVENT_SIZE}}
    data = {"quotes": [{"contractId": 1, "id": n, "entries": entries}]}  # numbered by id
    return ("a" + json.dumps([{"e": "md", "d": data}])).encode()


class LargeMessages:
    """A WebSocket server that opens a Tradovate session, then sends ``count`` large messages
    as fast as the client takes them; it gives up when the client stops reading for a second."""

    def __init__(self, message: Callable[[int], bytes], count: int) -> None:
        self._message = message
        self.count = count
        self.sent = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"ws://127.0.0.1:{self._listener.getsockname()[1]}/v1/websocket"
        self.done = threading.Event()
        self.release = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="large-messages")
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
            try:
                while self.sent < self.count:
                    peer.sendall(server_frame(0x1, self._message(self.sent + 1)))
                    self.sent += 1
            except TimeoutError:
                pass
            self.done.set()
            # Closing with the client's heartbeats unread would reset the connection, and the
            # client's kernel would drop what it had not read yet: hold on until told.
            self.release.wait(30)

    def join(self) -> None:
        self.release.set()
        self._thread.join(30)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_large_events_that_must_wait_stop_the_reading_at_the_byte_budget(
    adapter: str, clean_process: None
) -> None:
    server = LargeMessages(props, count=2000)  # 64 MiB, far under the queue's event count
    with open_client(
        adapter, "tradovate", server.url, reconnect=False, token=None, max_queued_bytes=BUDGET
    ) as driver:
        assert server.done.wait(30)
        buffer = driver.client._buffer
        held, queued = len(buffer), buffer.queued_bytes
        server.join()
    assert server.sent < server.count, "the client read every message: nothing bounded it"
    assert queued <= BUDGET + READ_SIZE + EVENT_SIZE
    assert held <= (BUDGET + READ_SIZE) // EVENT_SIZE + 2


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_large_quotes_are_read_and_conflated_within_the_byte_budget(
    adapter: str, clean_process: None
) -> None:
    server = LargeMessages(quote, count=1000)  # 32 MiB of quotes of one contract
    with open_client(
        adapter, "tradovate", server.url, reconnect=False, token=None, max_queued_bytes=BUDGET
    ) as driver:
        assert server.done.wait(30)
        buffer = driver.client._buffer
        deadline = time.monotonic() + 10
        while last_quote(buffer.snapshot()) != server.count and time.monotonic() < deadline:
            time.sleep(0.05)
        held, queued = len(buffer), buffer.queued_bytes
        last = last_quote(buffer.snapshot())
        server.join()
    assert server.sent == server.count, "the client stopped reading for market data"
    assert queued <= BUDGET + READ_SIZE + EVENT_SIZE
    assert held <= (BUDGET + READ_SIZE) // EVENT_SIZE + 2
    assert last == server.count


def last_quote(events: list[Any]) -> int | None:
    """The sequence number of the last quote queued."""
    numbers = [q.id for e in events if type(e) is MarketData for q in e.quotes]
    return numbers[-1] if numbers else None
