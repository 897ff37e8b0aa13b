"""Where a client connects: a URL taken apart, and the TLS context it uses.

``ws://`` and ``wss://`` are WebSocket; ``tcp://host:port`` and ``tls://host:port`` are cTrader's
raw TCP stream, plain (for local simulators) or over TLS. TLS uses
``ssl.create_default_context()``, which checks the certificate and the host name, unless the
caller passes a context of their own.
"""

from __future__ import annotations

import ssl
from typing import NamedTuple
from urllib.parse import urlsplit

__all__ = ["Endpoint", "parse_url"]

_DEFAULT_PORTS = {"ws": 80, "wss": 443}
_TLS_SCHEMES = frozenset({"wss", "tls"})


class Endpoint(NamedTuple):
    """A parsed URL: ``transport`` is "ws" or "tcp"; ``target`` the WebSocket path and query."""

    scheme: str
    host: str
    port: int
    target: str
    transport: str

    @property
    def tls(self) -> bool:
        return self.scheme in _TLS_SCHEMES

    @property
    def host_header(self) -> str:
        """The WebSocket Host header: the port is left out when it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        if _DEFAULT_PORTS.get(self.scheme) == self.port:
            return host
        return f"{host}:{self.port}"

    def display(self) -> str:
        """The URL without anything secret (no user info, no query string)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        path = self.target.split("?", 1)[0] if self.transport == "ws" else ""
        return f"{self.scheme}://{host}:{self.port}{path}"

    def ssl_context(self, given: ssl.SSLContext | None) -> ssl.SSLContext | None:
        """The context to wrap the socket in: None for plain schemes."""
        if not self.tls:
            return None
        return given if given is not None else ssl.create_default_context()


def parse_url(url: str, *, schemes: frozenset[str], default_target: str = "/") -> Endpoint:
    """Take ``url`` apart, accepting only ``schemes``; raises ``ValueError`` with the reason."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        accepted = ", ".join(f"{s}://" for s in sorted(schemes))
        raise ValueError(f"unsupported URL scheme in {url!r}: use {accepted}")
    if not parts.hostname:
        raise ValueError(f"the URL {url!r} names no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"the URL {url!r} has an invalid port") from None
    if port is None:
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"a {scheme}:// URL needs a port, as in {scheme}://host:5036")
        port = _DEFAULT_PORTS[scheme]
    transport = "ws" if scheme in _DEFAULT_PORTS else "tcp"
    target = parts.path or default_target
    if parts.query:
        target += "?" + parts.query
    return Endpoint(scheme, parts.hostname, port, target, transport)
