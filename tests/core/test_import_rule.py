"""The rule that makes brokerwire sans-IO: nothing under core/ does I/O or reads a clock."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.helpers import CHECKOUT, library_sources

FORBIDDEN_MODULES = {
    "socket",
    "ssl",
    "select",
    "selectors",
    "threading",
    "_thread",
    "asyncio",
    "time",
    "multiprocessing",
    "concurrent",
    "subprocess",
    "logging.handlers",
    "signal",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "sleep", "monotonic", "perf_counter"}
CORE_DIR = CHECKOUT / "core"  # the checkout's files, however brokerwire is installed


def violations(source: str) -> list[str]:
    """Every forbidden import or clock read in ``source``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            if name in FORBIDDEN_MODULES or name.split(".")[0] in FORBIDDEN_MODULES - {
                "logging.handlers"
            }:
                found.append(f"line {node.lineno}: imports {name}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in FORBIDDEN_CALLS
        ):
            found.append(f"line {node.lineno}: calls .{node.func.attr}()")
    return found


@pytest.mark.parametrize(
    "snippet",
    [
        "import socket",
        "import time",
        "from time import monotonic",
        "import asyncio.events",
        "from concurrent.futures import Future",
        "from logging.handlers import QueueHandler",
        "import selectors, json",
        "import datetime\nx = datetime.datetime.now()",
        "import threading as t",
    ],
)
def test_the_checker_catches_each_kind_of_violation(snippet: str) -> None:
    assert violations(snippet), f"the checker missed: {snippet!r}"


def test_the_checker_allows_what_core_needs() -> None:
    assert (
        violations("import json\nimport struct\nfrom .errors import X\nimport h11\nimport os") == []
    )


def test_no_module_under_core_does_io_or_reads_a_clock() -> None:
    files = library_sources("core")
    assert len(files) >= 10, f"expected the whole core package, found {files}"
    problems = {
        str(path.relative_to(CORE_DIR)): found
        for path in files
        if (found := violations(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_importing_core_loads_no_io_module() -> None:
    """Transitively too: h11 and wsproto must not drag threads or sockets in either."""
    modules = sorted(
        f"brokerwire.core.{'.'.join(p.relative_to(CORE_DIR).with_suffix('').parts)}"
        for p in CORE_DIR.rglob("*.py")
        if p.name != "__init__.py"
    )
    probe = (
        "import sys, importlib\n"
        f"before = set(sys.modules)\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"loaded = set(sys.modules) - before\n"
        f"bad = sorted(m for m in loaded if m.split('.')[0] in {sorted(FORBIDDEN_MODULES)!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(  # noqa: S603 - runs this interpreter on a fixed script
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
