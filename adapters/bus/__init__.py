"""brokerwire beyond one machine: what the clients decode, published to NATS JetStream.

``Publisher`` takes a client's events and publishes each, encoded with msgspec, to
``brokerwire.<broker>.<account>.<kind>[.<symbol>]`` on a JetStream stream (made when missing),
acknowledged, in order, once; ``Subscriber`` reads them back through a durable consumer as the
same typed Structs. Needs the ``nats`` extra (``pip install "brokerwire[nats]"``).
"""

from __future__ import annotations

from .codec import decode, encode
from .connection import DEFAULT_STREAM
from .kinds import KINDS
from .publisher import Publisher, PublishStats
from .subjects import subject
from .subscriber import Delivery, Subscriber

__all__ = [
    "DEFAULT_STREAM",
    "KINDS",
    "Delivery",
    "PublishStats",
    "Publisher",
    "Subscriber",
    "decode",
    "encode",
    "subject",
]
