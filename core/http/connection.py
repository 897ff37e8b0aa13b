"""One HTTP/1.1 exchange on the client side, sans-IO, on h11.

``send_request(request, now)`` queues the request's bytes; ``receive_data(data, now)`` takes
the server's bytes (``b""`` when it closed the connection) and returns, once the answer is
complete, exactly one event: a ``Response``, or a ``Failed`` carrying a
``RemoteProtocolError`` when the answer breaks HTTP, is larger than the limits or ends early.
The whole exchange has a deadline: ``next_deadline()`` says when, and ``handle_timer(now)``
returns ``TimedOut`` once it has passed without a complete answer.

A connection carries one exchange and asks the server to close afterwards
(``Connection: close``): the token exchanges it exists for are minutes apart, longer than a
server keeps an idle connection. Bodies may be framed by ``Content-Length``, by chunks, or by
the end of the stream; h11 tells them apart.
"""

from __future__ import annotations

import enum
from typing import Any

import h11
import msgspec

from .._guards import check_duration
from .._timers import earliest
from ..errors import LocalProtocolError, RemoteProtocolError
from ..transport import Outbox
from .events import Failed, HttpEvent, Response, TimedOut
from .request import HttpRequest, check_method, check_url

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEAD_SIZE",
    "DEFAULT_TIMEOUT",
    "HttpClientConnection",
    "HttpState",
]

DEFAULT_MAX_BODY_SIZE = 16 * 1024 * 1024
DEFAULT_MAX_HEAD_SIZE = 64 * 1024
DEFAULT_TIMEOUT = 30.0

_builtins_decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder()


class HttpState(enum.Enum):
    """IDLE: no request yet. WAITING: the request is queued and the answer not complete.
    DONE: the answer arrived. FAILED: the exchange ended without one."""

    IDLE = "idle"
    WAITING = "waiting"
    DONE = "done"
    FAILED = "failed"


_MOVES = {
    HttpState.IDLE: frozenset({HttpState.WAITING, HttpState.FAILED}),
    HttpState.WAITING: frozenset({HttpState.DONE, HttpState.FAILED}),
    HttpState.DONE: frozenset(),
    HttpState.FAILED: frozenset(),
}


def decode_body(body: bytes, decoder: msgspec.json.Decoder[Any] | None) -> tuple[Any, str]:
    """The body as JSON (into the decoder's type when one is given) and why it is not."""
    if not body:
        return None, ""
    error = ""
    if decoder is not None:
        try:
            return decoder.decode(body), ""
        except msgspec.ValidationError as exc:
            error = f"the body does not fit the model: {exc}"
        except (msgspec.DecodeError, RecursionError) as exc:
            return None, f"the body is not valid JSON: {exc}"
    try:
        return _builtins_decoder.decode(body), error
    except (msgspec.DecodeError, RecursionError) as exc:
        return None, f"the body is not valid JSON: {exc}"


def _shown(exc: h11.LocalProtocolError) -> str:
    """h11's reason for refusing a request, without the header value it quotes (a header
    may hold a credential)."""
    text = str(exc)
    if text.startswith("Illegal header value"):
        return "a header value HTTP does not allow (not shown: it may be a credential)"
    return text


class HttpClientConnection(Outbox):
    """The client side of one HTTP/1.1 exchange.

    ``timeout`` bounds the whole exchange, from ``send_request`` to the end of the answer.
    ``max_head_size`` bounds the status line and headers, ``max_body_size`` the body: an
    answer beyond either is a ``Failed`` event as soon as the excess arrives (a body announced
    by ``Content-Length`` as soon as its head does), before it is kept.
    """

    def __init__(
        self,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_head_size: int = DEFAULT_MAX_HEAD_SIZE,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
    ) -> None:
        check_duration("timeout", timeout, positive=True)
        if max_head_size < 1 or max_body_size < 0:
            raise ValueError("max_head_size must be at least 1 byte, max_body_size at least 0")
        self.timeout = timeout
        self.max_head_size = max_head_size
        self.max_body_size = max_body_size
        self._h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_head_size)
        self._state = HttpState.IDLE
        self._out: list[bytes] = []
        self._deadline: float | None = None
        self._decoder: msgspec.json.Decoder[Any] | None = None
        self._head: h11.Response | None = None
        self._body = bytearray()
        self._head_bytes = 0  # bytes fed before the head was complete

    def __repr__(self) -> str:
        return f"<HttpClientConnection {self._state.value}>"

    # -- state --------------------------------------------------------------------------------

    @property
    def state(self) -> HttpState:
        return self._state

    @property
    def opened(self) -> bool:
        """A request can be sent: none has been yet."""
        return self._state is HttpState.IDLE

    @property
    def closing(self) -> bool:
        """Never: an exchange has no closing handshake."""
        return False

    @property
    def closed(self) -> bool:
        """The exchange is over (answered or failed): the socket can be closed."""
        return self._state is HttpState.DONE or self._state is HttpState.FAILED

    def _move_to(self, state: HttpState) -> None:
        if state not in _MOVES[self._state]:
            raise LocalProtocolError(
                f"an exchange cannot go from {self._state.value} to {state.value}"
            )
        self._state = state
        if state is not HttpState.WAITING:
            self._deadline = None
            self._body = bytearray()

    # -- sending ------------------------------------------------------------------------------

    def send_request(
        self,
        request: HttpRequest,
        now: float,
        *,
        decoder: msgspec.json.Decoder[Any] | None = None,
    ) -> None:
        """Queue ``request`` and start the deadline at ``now``.

        ``decoder`` decodes the answer's body into a model; without one it becomes Python
        builtins. Raises ``LocalProtocolError`` when a request was already sent or the request
        cannot be written as HTTP/1.1.
        """
        if self._state is not HttpState.IDLE:
            raise LocalProtocolError(
                f"cannot send a request: this connection is {self._state.value} "
                "(one exchange per connection)"
            )
        check_method(request.method)
        check_url(request.url)
        try:
            host = request.host_header.encode("idna")
        except UnicodeError as exc:
            raise LocalProtocolError(f"cannot send this request: bad host ({exc})") from None
        headers = [
            (b"Host", host),
            *request.headers,
            (b"Connection", b"close"),
        ]
        if request.body or request.method in ("POST", "PUT", "PATCH"):
            headers.append((b"Content-Length", str(len(request.body)).encode()))
        try:
            head = h11.Request(method=request.method, target=request.target, headers=headers)
            # A fresh h11 connection each time: one that refused a request is left in error.
            writer = h11.Connection(h11.CLIENT, max_incomplete_event_size=self.max_head_size)
            data = writer.send(head) or b""
            if request.body:
                data += writer.send(h11.Data(data=request.body)) or b""
            data += writer.send(h11.EndOfMessage()) or b""
        except h11.LocalProtocolError as exc:
            raise LocalProtocolError(f"cannot send this request: {_shown(exc)}") from None
        except UnicodeError:
            raise LocalProtocolError(
                "cannot send this request: text headers must be ASCII"
            ) from None
        self._h11 = writer
        self._out.append(data)
        self._decoder = decoder
        self._move_to(HttpState.WAITING)
        self._deadline = now + self.timeout

    # -- receiving ----------------------------------------------------------------------------

    def receive_data(self, data: bytes, now: float) -> list[HttpEvent]:
        """Feed the server's bytes (``b""`` when it closed the connection).

        Returns ``[]`` until the exchange ends, then its one event. Bytes after the end are
        ignored.
        """
        if self._state is HttpState.IDLE:
            if not data:
                return [self._fail("the server closed the connection before a request")]
            return [self._fail("the server sent data before a request was sent")]
        if self._state is not HttpState.WAITING:
            return []
        if self._head is None:
            self._head_bytes += len(data)
        try:
            self._h11.receive_data(data)
            return self._next_events(eof=not data)
        except h11.RemoteProtocolError as exc:
            return [self._fail(self._explain(exc, eof=not data))]

    def _next_events(self, *, eof: bool) -> list[HttpEvent]:
        while True:
            h11_event = self._h11.next_event()
            if h11_event is h11.NEED_DATA or h11_event is h11.PAUSED:
                return []
            if isinstance(h11_event, h11.Response):
                problem = self._check_head(h11_event)
                if problem:
                    return [self._fail(problem)]
                self._head = h11_event
            elif isinstance(h11_event, h11.Data):
                if len(self._body) + len(h11_event.data) > self.max_body_size:
                    return [self._fail(f"the response body is over {self.max_body_size} bytes")]
                self._body += h11_event.data
            elif isinstance(h11_event, h11.EndOfMessage):
                return [self._finish()]
            elif isinstance(h11_event, h11.ConnectionClosed):
                return [self._fail(self._explain_eof())]
            # InformationalResponse (100 Continue and the like): wait for the final answer.

    def _check_head(self, head: h11.Response) -> str:
        # h11 bounds a head that is still incomplete; one that arrived whole is measured here.
        if self._head_bytes - len(self._h11.trailing_data[0]) > self.max_head_size:
            return f"the response head is over {self.max_head_size} bytes"
        for name, value in head.headers:
            if name == b"content-length" and int(value) > self.max_body_size:
                return (
                    f"the response body is over {self.max_body_size} bytes "
                    f"(Content-Length: {int(value)})"
                )
        return ""

    def _finish(self) -> Response:
        head = self._head
        assert head is not None
        body = bytes(self._body)
        data, error = decode_body(body, self._decoder)
        self._move_to(HttpState.DONE)
        return Response(
            head.status_code, head.reason.decode("latin-1"), tuple(head.headers), body, data, error
        )

    def _explain(self, exc: h11.RemoteProtocolError, *, eof: bool) -> str:
        if eof:
            return self._explain_eof()
        buffered = len(self._h11.trailing_data[0])
        if self._head is None and buffered > self.max_head_size:
            return f"the response head is over {self.max_head_size} bytes"
        return f"invalid HTTP response: {exc}"

    def _explain_eof(self) -> str:
        if self._head is None:
            return "the server closed the connection before the response was complete"
        return (
            "the server closed the connection in the middle of the response body "
            f"({len(self._body)} bytes of it had arrived)"
        )

    def _fail(self, message: str) -> Failed:
        self._move_to(HttpState.FAILED)
        return Failed(RemoteProtocolError(message))

    # -- timers -------------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When the exchange times out, while it waits for the answer."""
        return earliest(self._deadline)

    def handle_timer(self, now: float) -> list[HttpEvent]:
        if self._deadline is None or now < self._deadline:
            return []
        self._move_to(HttpState.FAILED)
        return [TimedOut(self.timeout)]
