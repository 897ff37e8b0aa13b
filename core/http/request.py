"""An HTTP/1.1 request to send: what the token exchanges of both brokers are made of.

A request names its absolute URL; the adapter that runs it opens a TCP connection to ``host``
and ``port`` (with TLS when ``scheme`` is ``https``) and hands the request to an
``HttpClientConnection``. Its repr shows neither the body (a sign-in body holds a password) nor
credential headers or query parameters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import SplitResult, urlencode, urlsplit

import msgspec

from ..errors import LocalProtocolError
from ..secret import Secret, redact_url, reveal
from ..websocket.handshake import Header, redact_headers

__all__ = ["Header", "HttpRequest", "check_method", "check_url", "make_request"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_json_encoder = msgspec.json.Encoder()


class HttpRequest(NamedTuple):
    """One request: method, absolute URL, headers (besides ``Host``) and body."""

    method: str
    url: str
    headers: tuple[Header, ...] = ()
    body: bytes = b""

    def __repr__(self) -> str:
        return (
            f"HttpRequest(method={self.method!r}, url={redact_url(self.url)!r}, "
            f"headers={redact_headers(self.headers)!r}, body=<{len(self.body)} bytes>)"
        )

    @property
    def _parts(self) -> SplitResult:
        return urlsplit(self.url)

    @property
    def scheme(self) -> str:
        """``http`` or ``https``: whether the adapter wraps the socket in TLS."""
        return self._parts.scheme

    @property
    def host(self) -> str:
        """The host to connect to (and to check the certificate against)."""
        return self._parts.hostname or ""

    @property
    def port(self) -> int:
        """The port to connect to: the URL's, or the scheme's default."""
        return self._parts.port or _DEFAULT_PORTS[self.scheme]

    @property
    def target(self) -> str:
        """The request target: the path and the query."""
        parts = self._parts
        path = parts.path or "/"
        return f"{path}?{parts.query}" if parts.query else path

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the host, and the port when it is not the scheme's default."""
        parts = self._parts
        host = f"[{self.host}]" if ":" in self.host else self.host
        if parts.port is None or parts.port == _DEFAULT_PORTS[self.scheme]:
            return host
        return f"{host}:{parts.port}"


def check_method(method: str) -> None:
    """Raise ``LocalProtocolError`` unless ``method`` is a method name (ASCII letters)."""
    if not method.isascii() or not method.isalpha():
        raise LocalProtocolError(f"invalid HTTP method {method!r}")


def check_url(url: str) -> None:
    """Raise ``LocalProtocolError`` unless ``url`` is an absolute http(s) URL to request."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise LocalProtocolError(f"invalid URL {redact_url(url)!r}: {exc}") from None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise LocalProtocolError(
            f"the URL must be absolute http:// or https://, got {redact_url(url)!r}"
        )
    if port == 0 or parts.username is not None or parts.fragment:
        raise LocalProtocolError(
            f"the URL may hold no port 0, user name or fragment: {redact_url(url)!r}"
        )


def _header(name: str | bytes, value: str | bytes) -> Header:
    raw_name = name.encode("ascii") if isinstance(name, str) else bytes(name)
    raw_value = value.encode("latin-1") if isinstance(value, str) else bytes(value)
    if any(c in raw_name + raw_value for c in b"\r\n\0") or b":" in raw_name or not raw_name:
        raise LocalProtocolError(
            f"invalid header {raw_name!r}: names and values may not hold CR, LF or NUL"
        )
    return raw_name, raw_value


def make_request(
    method: str,
    url: str,
    *,
    query: Mapping[str, str | Secret] | None = None,
    json: Any = None,
    bearer: Secret | str | None = None,
    headers: Sequence[tuple[str | bytes, str | bytes]] = (),
) -> HttpRequest:
    """Build a request that asks for JSON.

    ``query`` is appended to the URL (secret values revealed there, and hidden again by the
    request's repr); ``json`` becomes the body, sent as ``application/json``; ``bearer`` is
    sent as ``Authorization: Bearer ...``. Raises ``LocalProtocolError`` for a URL or header
    that cannot be sent.
    """
    check_method(method)
    check_url(url)
    if query:
        pairs = [(key, reveal(value)) for key, value in query.items()]
        url = f"{url}{'&' if '?' in url else '?'}{urlencode(pairs)}"
    built = [_header(b"Accept", b"application/json")]
    body = b""
    if json is not None:
        body = _json_encoder.encode(json)
        built.append(_header(b"Content-Type", b"application/json"))
    if bearer is not None:
        built.append(_header(b"Authorization", f"Bearer {reveal(bearer)}"))
    built.extend(_header(name, value) for name, value in headers)
    return HttpRequest(method.upper(), url, tuple(built), body)
