"""brokerwire: the Tradovate WebSocket API and the cTrader Open API (JSON), sans-IO.

``brokerwire.core`` is the protocol core (bytes in, events out, no I/O); ``brokerwire.adapters``
runs it on threads or on an asyncio loop. ``__version__`` is the installed distribution's
version, read from its metadata so that the version is written in one place only.

This file is installed as ``brokerwire/__init__.py`` (``pyproject.toml`` maps the package
here): the repository keeps only ``core/`` and ``adapters/`` at its top.
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__ = version("brokerwire")
except PackageNotFoundError:  # imported from files that were never installed
    __version__ = "0+unknown"
