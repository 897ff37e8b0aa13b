"""The base of every brokerwire event.

Events are msgspec Structs: immutable, slotted, compared by class and fields, matched with
``match`` on class and fields, and written as JSON by ``msgspec.to_builtins``. They are built
as fast as a tuple and, declared ``gc=False``, never wake the cyclic garbage collector: what an
event holds is decoded JSON or other events, which cannot refer back to it. An event that holds
an exception (whose traceback can reach the frame that made the event) keeps the collector's
tracking with ``gc=True``.
"""

from __future__ import annotations

import msgspec

__all__ = ["Event"]


class Event(msgspec.Struct, frozen=True, gc=False):
    """Base class of every event a connection or client returns."""
