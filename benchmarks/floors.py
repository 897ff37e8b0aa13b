"""The floors: a JSON library alone on the payloads, already cut out of their frames.

No framing, no dispatch, no events: what decoding the documents themselves costs, which no
decoder of the stream can undercut by much. ``json-floor`` and ``orjson-floor`` build dicts;
``msgspec-floor`` builds the typed Structs of ``models.py``, the form brokerwire delivers.
Each counts the messages it decoded (a Tradovate frame may carry several), so that a floor
that decoded nothing would fail the benchmark's check like any decoder.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from typing import Any

from . import models
from .streams import Workload

HAVE_ORJSON = importlib.util.find_spec("orjson") is not None
if HAVE_ORJSON:  # the bench extra; without it, the orjson baselines are left out
    import orjson

__all__ = ["HAVE_ORJSON", "Run", "json_floor", "msgspec_floor", "orjson_floor", "typed_decoder"]

#: decodes the chunks of one run; returns the messages delivered
Run = Callable[[list[bytes]], int]


def _floor(workload: Workload, loads: Callable[[bytes], Any]) -> Run:
    """``loads`` on each payload of ``workload``, counting what it decoded."""
    payloads = workload.payloads
    if workload.broker == "tradovate":  # each payload is the array of an ``a`` frame

        def run(chunks: list[bytes]) -> int:
            delivered = 0
            for payload in payloads:
                delivered += len(loads(payload))
            return delivered

    else:

        def run(chunks: list[bytes]) -> int:
            delivered = 0
            for payload in payloads:
                loads(payload)
                delivered += 1
            return delivered

    return run


def json_floor(workload: Workload) -> Run:
    """The standard library's ``json.loads``, into dicts."""
    return _floor(workload, json.loads)


def orjson_floor(workload: Workload) -> Run | None:
    """``orjson.loads``, into dicts: the quickest way to plain values."""
    if not HAVE_ORJSON:
        return None
    return _floor(workload, orjson.loads)


#: workload name -> the decoder of one payload into typed Structs
_TYPED: dict[str, Callable[[Any], Any]] = {
    "tradovate-ws-quotes": models.QUOTE_FRAME.decode,
    "ctrader-ws-spots": models.SPOT_EVENT.decode,
    "ctrader-tcp-spots": models.SPOT_EVENT.decode,
}


def typed_decoder(workload: Workload) -> Callable[[Any], Any] | None:
    """msgspec's decoder of this workload's payloads into typed Structs, if it has models."""
    return _TYPED.get(workload.name)


def msgspec_floor(workload: Workload) -> Run | None:
    """msgspec straight into typed, frozen Structs (quote and spot workloads only)."""
    decode = typed_decoder(workload)
    if decode is None:
        return None
    return _floor(workload, decode)
