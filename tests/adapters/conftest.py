"""Fixtures for the client tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from brokerwire.adapters.simulators.ctrader import _CTraderSession
from brokerwire.adapters.simulators.tradovate import _TradovateSession
from brokerwire.core.ctrader import PayloadType
from tests.adapters.clients import open_descriptors

_SPOT = int(PayloadType.PROTO_OA_SPOT_EVENT)


@pytest.fixture(autouse=True)
def numbered_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulators number each quote and spot of a subscription (``seq``, from 1), a field
    the typed events do not keep: here it also goes in one they keep, a quote's ``id`` and a
    spot's ``timestamp``, so a test can prove that nothing was lost, repeated or reordered."""
    tradovate_event = _TradovateSession._event
    ctrader_send = _CTraderSession._send

    def numbered_quote(quote: Any) -> Any:
        return (
            {**quote, "id": quote["seq"]} if isinstance(quote, dict) and "seq" in quote else quote
        )

    def event(session: _TradovateSession, kind: str, data: Any) -> bool:
        if kind == "md" and isinstance(data, dict) and isinstance(data.get("quotes"), list):
            data = {**data, "quotes": [numbered_quote(q) for q in data["quotes"]]}
        return tradovate_event(session, kind, data)

    def send(
        session: _CTraderSession,
        payload_type: int,
        payload: Mapping[str, Any] | None,
        client_msg_id: str | None,
    ) -> bool:
        if payload_type == _SPOT and payload is not None and "seq" in payload:
            payload = {**payload, "timestamp": payload["seq"]}
        return ctrader_send(session, payload_type, payload, client_msg_id)

    monkeypatch.setattr(_TradovateSession, "_event", event)
    monkeypatch.setattr(_CTraderSession, "_send", send)


@pytest.fixture
def clean_process() -> Iterator[None]:
    """The test must leave no thread and no file descriptor behind."""
    threads = set(threading.enumerate())
    descriptors = open_descriptors()
    yield
    # Threads end and sockets close a little after the test; a busy machine may take seconds.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (
        set(threading.enumerate()) - threads or open_descriptors() != descriptors
    ):
        time.sleep(0.01)
    assert set(threading.enumerate()) - threads == set()
    assert open_descriptors() == descriptors
