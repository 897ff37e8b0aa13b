"""What an ``HttpClientConnection`` returns: exactly one of these ends each exchange."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .._event import Event
from .._guards import safe_preview
from ..errors import RemoteProtocolError
from ..redaction import redact
from ..websocket.handshake import Header, redact_headers

__all__ = ["Failed", "HttpEvent", "Response", "TimedOut", "parse_http_date"]

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}


def parse_http_date(value: bytes) -> datetime | None:
    """An HTTP ``Date`` value in the IMF-fixdate form (``Sun, 06 Nov 1994 08:49:37 GMT``) as an
    aware UTC datetime; None for anything else (RFC 9110 lets a client ignore other forms)."""
    try:
        _weekday, day, month, year, clock, zone = value.decode("ascii").split(" ")
        hour, minute, second = (int(part) for part in clock.split(":"))
        if zone != "GMT" or len(day) != 2 or len(year) != 4:
            return None
        return datetime(int(year), _MONTHS[month], int(day), hour, minute, second, tzinfo=UTC)
    except (UnicodeDecodeError, ValueError, KeyError):
        return None


class Response(Event, frozen=True):
    """The server's complete answer.

    ``data`` is the body decoded as JSON: into the model asked for, or into Python builtins
    when none was given or the body did not fit it. ``error`` says why ``data`` is not what was
    asked for ("" when it is): the body fits no model (``data`` then holds it decoded as
    builtins), or it is not JSON at all (``data`` is None; ``body`` still holds it). An empty
    body gives ``data`` None and no error.
    """

    status_code: int
    reason: str
    headers: tuple[Header, ...]
    body: bytes
    data: Any
    error: str = ""

    def __repr__(self) -> str:
        try:
            shown = safe_preview(redact(self.data), 200)
        except RecursionError:
            shown = f"<{type(self.data).__name__} too deep to show>"
        return (
            f"Response(status_code={self.status_code!r}, reason={self.reason!r}, "
            f"headers={redact_headers(self.headers)!r}, body=<{len(self.body)} bytes>, "
            f"data={shown}, error={self.error!r})"
        )

    @property
    def ok(self) -> bool:
        """A 2xx status."""
        return 200 <= self.status_code < 300

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower case), or None."""
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def date(self) -> datetime | None:
        """The server's ``Date`` header as an aware UTC datetime, when it sent a valid one."""
        value = self.header(b"date")
        return parse_http_date(value) if value is not None else None


class Failed(Event, frozen=True, gc=True):
    """The exchange ended without a usable answer: the server broke HTTP, sent more than the
    limits allow, or closed the connection before the answer was complete."""

    error: RemoteProtocolError


class TimedOut(Event, frozen=True):
    """No complete answer within ``timeout`` seconds of sending the request."""

    timeout: float


HttpEvent = Response | Failed | TimedOut
