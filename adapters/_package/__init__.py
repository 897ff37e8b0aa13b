"""brokerwire: the Tradovate WebSocket API and the cTrader Open API (JSON), sans-IO.

``brokerwire.core`` is the protocol core (bytes in, events out, no I/O); ``brokerwire.adapters``
runs it on threads or on an asyncio loop. ``__version__`` is the installed distribution's
version, read from its metadata so that the version is written in one place only. It is read
when first asked for: ``importlib.metadata`` loads ``socket`` and ``threading``, which importing
``brokerwire.core`` must not.

This file is installed as ``brokerwire/__init__.py`` (``pyproject.toml`` maps the package
here): the repository keeps only ``core/`` and ``adapters/`` at its top.
"""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415 - see above

    try:
        found = version("brokerwire")
    except PackageNotFoundError:  # imported from files that were never installed
        found = "0+unknown"
    globals()["__version__"] = found
    return found
