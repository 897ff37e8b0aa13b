"""The publisher's bounded buffer: events taken from a client, waiting for JetStream's ack.

An event stays in the buffer from the moment it is taken from the client until JetStream has
stored it, so the bound covers what is in flight as well as what waits. While the buffer is full
the publisher takes nothing more from the client: the client's own bounded queue fills, and a
client made with ``on_full="pause"`` stops reading from the broker (TCP then slows the broker
down). Nothing is dropped and memory stays bounded.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from itertools import islice

__all__ = ["Outgoing", "PublishBuffer"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event as it goes on the bus: subject, payload, its number in what the publisher
    took, and its message id."""

    subject: str
    payload: bytes
    number: int
    msg_id: str


class PublishBuffer:
    """Bounded in messages and in payload bytes (one message always fits)."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        if max_messages < 1 or max_bytes < 1:
            raise ValueError("the publish buffer needs room for at least one message")
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self._entries: deque[Outgoing] = deque()
        self.bytes = 0
        self.peak_messages = 0
        self.peak_bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def full(self) -> bool:
        return len(self._entries) >= self.max_messages or self.bytes >= self.max_bytes

    def add(self, entry: Outgoing) -> None:
        self._entries.append(entry)
        self.bytes += len(entry.payload)
        self.peak_messages = max(self.peak_messages, len(self._entries))
        self.peak_bytes = max(self.peak_bytes, self.bytes)

    def head(self, count: int) -> list[Outgoing]:
        """The oldest ``count`` entries, left in place until ``release``."""
        return list(islice(self._entries, count))

    def release(self, count: int) -> None:
        """JetStream stored the oldest ``count`` entries."""
        for _ in range(count):
            self.bytes -= len(self._entries.popleft().payload)
