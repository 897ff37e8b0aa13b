"""The HTTP/1.1 opening handshake of RFC 6455, both roles, on h11.

h11 parses and writes the HTTP messages; wsproto's handshake helpers make and check the
``Sec-WebSocket-Key`` / ``Sec-WebSocket-Accept`` pair. Both handshake classes hand back the
bytes that followed the HTTP message (h11's ``trailing_data``): they are the first WebSocket
frames and go to the frame decoder.

No extensions are offered or accepted: neither broker compresses, and a frame with an RSV bit
set is therefore always a protocol error.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

import h11
from wsproto.utilities import generate_accept_token

from .._event import Event
from ..errors import LocalProtocolError, RemoteProtocolError

__all__ = [
    "BadUpgradeRequest",
    "ClientHandshake",
    "ConnectionAccepted",
    "ConnectionRejected",
    "ConnectionRequest",
    "Header",
    "ServerHandshake",
]

Header = tuple[bytes, bytes]

# Headers whose values must never be shown: they carry credentials.
_SECRET_HEADERS = frozenset({b"authorization", b"cookie", b"proxy-authorization", b"set-cookie"})
_MAX_HEAD_SIZE = 64 * 1024
_MAX_REJECTION_BODY = 64 * 1024
_UPGRADE_REQUIRED: list[Header] = [
    (b"Upgrade", b"websocket"),
    (b"Connection", b"Upgrade"),
    (b"Sec-WebSocket-Version", b"13"),
]


def redact_headers(headers: Sequence[Header]) -> list[tuple[bytes, bytes]]:
    """The headers with the values of credential-bearing ones replaced, for reprs and logs."""
    return [
        (name, b"<redacted>" if name.lower() in _SECRET_HEADERS else value)
        for name, value in headers
    ]


def _header_tokens(headers: Sequence[Header], name: bytes) -> list[str]:
    """The comma-separated tokens of every ``name`` header, lower-cased.

    Decoded as Latin-1, which cannot fail: HTTP allows any octet in a field value, and a peer
    that sends one outside ASCII must get an answer, not an exception.
    """
    tokens: list[str] = []
    for key, value in headers:
        if key == name:
            tokens.extend(token.strip().lower() for token in value.decode("latin-1").split(","))
    return tokens


def _header_value(headers: Sequence[Header], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


def _to_header(name: str | bytes, value: str | bytes) -> Header:
    raw_name = name.encode("ascii") if isinstance(name, str) else name
    raw_value = value.encode("latin-1") if isinstance(value, str) else value
    if any(c in raw_name + raw_value for c in b"\r\n\0") or b":" in raw_name or not raw_name:
        raise LocalProtocolError(
            f"invalid header {raw_name!r}: names and values may not hold CR, LF or NUL"
        )
    return raw_name, raw_value


class ConnectionRequest(Event, frozen=True):
    """Server role: a client asks to open a WebSocket. Answer with ``accept()`` or ``reject()``."""

    target: str
    host: str
    subprotocols: tuple[str, ...]
    headers: tuple[Header, ...]

    def __repr__(self) -> str:
        return (
            f"ConnectionRequest(target={self.target!r}, host={self.host!r}, "
            f"subprotocols={self.subprotocols!r}, headers={redact_headers(self.headers)!r})"
        )


class ConnectionAccepted(Event, frozen=True):
    """Client role: the server accepted the upgrade; messages can flow."""

    subprotocol: str | None
    headers: tuple[Header, ...]

    def __repr__(self) -> str:
        return (
            f"ConnectionAccepted(subprotocol={self.subprotocol!r}, "
            f"headers={redact_headers(self.headers)!r})"
        )


class ConnectionRejected(Event, frozen=True):
    """Client role: the server answered the upgrade with an ordinary HTTP response."""

    status_code: int
    headers: tuple[Header, ...]
    body: bytes

    def __repr__(self) -> str:
        return (
            f"ConnectionRejected(status_code={self.status_code!r}, "
            f"headers={redact_headers(self.headers)!r}, body={self.body[:200]!r})"
        )


class BadUpgradeRequest(RemoteProtocolError):
    """A client's upgrade request that must be refused, with the HTTP status that refuses it."""

    def __init__(
        self, message: str, status_code: int = 400, headers: Sequence[Header] = ()
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.headers = list(headers)


def _status_phrase(status_code: int) -> bytes:
    try:
        return HTTPStatus(status_code).phrase.encode()
    except ValueError:
        return b""


class ClientHandshake:
    """Writes the upgrade request and checks the server's answer."""

    def __init__(
        self,
        host: str,
        target: str,
        nonce: bytes,
        subprotocols: Sequence[str] = (),
        extra_headers: Sequence[tuple[str | bytes, str | bytes]] = (),
    ) -> None:
        if not target.startswith("/"):
            raise LocalProtocolError(f"the request target must start with '/', got {target!r}")
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_HEAD_SIZE)
        self._nonce = nonce
        self._subprotocols = tuple(subprotocols)
        self._rejection: tuple[int, tuple[Header, ...]] | None = None
        self._rejection_body = bytearray()
        headers: list[Header] = [
            (b"Host", host.encode("idna")),
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Key", nonce),
            (b"Sec-WebSocket-Version", b"13"),
        ]
        if self._subprotocols:
            headers.append(
                (b"Sec-WebSocket-Protocol", ", ".join(self._subprotocols).encode("ascii"))
            )
        headers.extend(_to_header(name, value) for name, value in extra_headers)
        try:
            request = h11.Request(method="GET", target=target, headers=headers)
            self.request_bytes: bytes = (self._h11.send(request) or b"") + (
                self._h11.send(h11.EndOfMessage()) or b""
            )
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(f"invalid handshake request: {exc}") from exc

    def receive_data(
        self, data: bytes
    ) -> tuple[ConnectionAccepted | ConnectionRejected | None, bytes]:
        """Feed response bytes (``b""`` at EOF).

        Returns ``(None, b"")`` while more bytes are needed, ``(ConnectionAccepted, trailing)``
        once the upgrade succeeded (``trailing`` are the first frame bytes), or
        ``(ConnectionRejected, b"")`` once a refusal and its body are complete. Raises
        ``RemoteProtocolError`` for a response that breaks HTTP or RFC 6455.
        """
        try:
            self._h11.receive_data(data)
            while True:
                h11_event = self._h11.next_event()
                if h11_event is h11.NEED_DATA or h11_event is h11.PAUSED:
                    if data == b"" and self._rejection is None:
                        raise RemoteProtocolError(
                            "the connection closed during the opening handshake"
                        )
                    return None, b""
                if isinstance(h11_event, h11.InformationalResponse):
                    if h11_event.status_code == 101:
                        accepted = self._check_accept(tuple(h11_event.headers))
                        return accepted, bytes(self._h11.trailing_data[0])
                    continue  # 1xx other than 101 (e.g. 100 Continue): keep waiting
                if isinstance(h11_event, h11.Response):
                    self._rejection = (h11_event.status_code, tuple(h11_event.headers))
                elif isinstance(h11_event, h11.Data):
                    room = _MAX_REJECTION_BODY - len(self._rejection_body)
                    self._rejection_body += h11_event.data[:room]
                elif isinstance(h11_event, h11.EndOfMessage | h11.ConnectionClosed):
                    if self._rejection is None:
                        raise RemoteProtocolError(
                            "the connection closed during the opening handshake"
                        )
                    status, headers = self._rejection
                    return ConnectionRejected(status, headers, bytes(self._rejection_body)), b""
        except h11.RemoteProtocolError as exc:
            if data == b"":
                raise RemoteProtocolError(
                    "the connection closed during the opening handshake, mid-response"
                ) from exc
            raise RemoteProtocolError(
                f"invalid HTTP response to the WebSocket upgrade: {exc}"
            ) from exc

    def _check_accept(self, headers: tuple[Header, ...]) -> ConnectionAccepted:
        if "upgrade" not in _header_tokens(headers, b"connection"):
            raise RemoteProtocolError("the 101 response lacks 'Connection: Upgrade'")
        if _header_tokens(headers, b"upgrade") != ["websocket"]:
            raise RemoteProtocolError("the 101 response lacks 'Upgrade: websocket'")
        if _header_value(headers, b"sec-websocket-accept") != generate_accept_token(self._nonce):
            raise RemoteProtocolError("the 101 response has a wrong Sec-WebSocket-Accept key")
        if _header_value(headers, b"sec-websocket-extensions") is not None:
            raise RemoteProtocolError("the server enabled an extension that was not offered")
        subprotocol_raw = _header_value(headers, b"sec-websocket-protocol")
        subprotocol = (
            subprotocol_raw.decode("latin-1").strip() if subprotocol_raw is not None else None
        )
        if subprotocol is not None and subprotocol not in self._subprotocols:
            raise RemoteProtocolError(
                f"the server chose subprotocol {subprotocol!r}, which was not offered"
            )
        return ConnectionAccepted(subprotocol, headers)


class ServerHandshake:
    """Reads and checks the upgrade request, then writes the acceptance or the refusal."""

    def __init__(self) -> None:
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_HEAD_SIZE)
        self._request: ConnectionRequest | None = None
        self._key: bytes = b""
        self._request_complete = False

    @property
    def request(self) -> ConnectionRequest | None:
        return self._request

    def receive_data(self, data: bytes) -> ConnectionRequest | None:
        """Feed request bytes (``b""`` at EOF). Returns the request once it is complete.

        Raises ``BadUpgradeRequest`` for a request that is not a valid WebSocket upgrade; its
        ``status_code`` and ``headers`` are what the refusal should carry.
        """
        if self._request_complete:
            if data == b"":
                raise BadUpgradeRequest(
                    "the client closed the connection before its upgrade was answered"
                )
            self._h11.receive_data(data)  # early frames; h11 hands them back as trailing data
            return None
        try:
            self._h11.receive_data(data)
            while not self._request_complete:
                h11_event = self._h11.next_event()
                if h11_event is h11.NEED_DATA:
                    if data == b"":
                        raise BadUpgradeRequest(
                            "the connection closed during the opening handshake"
                        )
                    return None
                if isinstance(h11_event, h11.Request):
                    self._request = self._check_request(h11_event)
                elif isinstance(h11_event, h11.EndOfMessage) or h11_event is h11.PAUSED:
                    self._request_complete = True
                elif isinstance(h11_event, h11.ConnectionClosed):
                    raise BadUpgradeRequest("the connection closed during the opening handshake")
                else:
                    raise BadUpgradeRequest("a WebSocket upgrade request must not have a body")
        except h11.RemoteProtocolError as exc:
            raise BadUpgradeRequest(f"invalid HTTP request: {exc}", exc.error_status_hint) from exc
        return self._request if self._request_complete else None

    def _check_request(self, request: h11.Request) -> ConnectionRequest:
        headers = tuple(request.headers)
        if request.method != b"GET":
            raise BadUpgradeRequest(
                f"a WebSocket upgrade must use GET, not {request.method.decode()}",
                405,
                [(b"Allow", b"GET")],
            )
        if "upgrade" not in _header_tokens(headers, b"connection"):
            raise BadUpgradeRequest(
                "the upgrade request lacks 'Connection: Upgrade'", 426, _UPGRADE_REQUIRED
            )
        if "websocket" not in _header_tokens(headers, b"upgrade"):
            raise BadUpgradeRequest(
                "the upgrade request lacks 'Upgrade: websocket'", 426, _UPGRADE_REQUIRED
            )
        if _header_value(headers, b"sec-websocket-version") != b"13":
            raise BadUpgradeRequest(
                "unsupported Sec-WebSocket-Version (only 13 is spoken)", 426, _UPGRADE_REQUIRED
            )
        key = _header_value(headers, b"sec-websocket-key")
        if key is None:
            raise BadUpgradeRequest("the upgrade request lacks Sec-WebSocket-Key")
        self._key = key
        host = _header_value(headers, b"host") or b""
        subprotocols = tuple(_header_tokens(headers, b"sec-websocket-protocol"))
        return ConnectionRequest(
            request.target.decode("latin-1"), host.decode("latin-1"), subprotocols, headers
        )

    def accept(
        self, subprotocol: str | None, extra_headers: Sequence[tuple[str | bytes, str | bytes]]
    ) -> tuple[bytes, bytes]:
        """The 101 response, and the frame bytes that arrived after the request."""
        if self._request is None or not self._request_complete:
            raise LocalProtocolError("accept() needs a complete ConnectionRequest first")
        if subprotocol is not None and subprotocol not in self._request.subprotocols:
            raise LocalProtocolError(f"subprotocol {subprotocol!r} was not offered by the client")
        headers: list[Header] = [
            (b"Upgrade", b"websocket"),
            (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Accept", generate_accept_token(self._key)),
        ]
        if subprotocol is not None:
            headers.append((b"Sec-WebSocket-Protocol", subprotocol.encode("ascii")))
        headers.extend(_to_header(name, value) for name, value in extra_headers)
        try:
            response = h11.InformationalResponse(
                status_code=101, headers=headers, reason=b"Switching Protocols"
            )
            data = self._h11.send(response) or b""
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(f"invalid handshake response: {exc}") from exc
        return data, bytes(self._h11.trailing_data[0])

    def reject(
        self,
        status_code: int,
        body: bytes,
        extra_headers: Sequence[tuple[str | bytes, str | bytes]],
    ) -> bytes:
        """A complete HTTP response refusing the upgrade."""
        if not 400 <= status_code <= 599:
            raise LocalProtocolError(f"a refusal needs a 4xx or 5xx status, not {status_code}")
        headers = [_to_header(name, value) for name, value in extra_headers]
        headers.append((b"Content-Length", str(len(body)).encode()))
        headers.append((b"Connection", b"close"))
        if body:
            headers.append((b"Content-Type", b"text/plain; charset=utf-8"))
        # A refusal ends the connection, so it is written directly: h11 could not write one at all
        # when the request line itself was unreadable.
        head = b"HTTP/1.1 %d %s\r\n" % (status_code, _status_phrase(status_code))
        head += b"".join(name + b": " + value + b"\r\n" for name, value in headers)
        return head + b"\r\n" + body
