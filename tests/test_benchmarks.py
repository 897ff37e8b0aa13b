"""The benchmark's baselines measure what they say they measure."""

from __future__ import annotations

import importlib

from benchmarks import impls
from brokerwire.core import jsonlib


def test_the_floor_is_the_json_librarys_own_loads() -> None:
    # brokerwire's own loads wraps orjson in a Python function; a floor timed through it would
    # be slower than the library, and every ratio to it flattering.
    library = importlib.import_module(jsonlib.BACKEND)
    assert impls.library_loads() is library.loads
