"""Fixtures for the client tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from tests.adapters.clients import open_descriptors


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
