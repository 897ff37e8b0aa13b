"""Tradovate's message format, as pure functions: frames, requests, responses and events.

Server to client, every WebSocket text message is a SockJS-style frame: ``o`` (open), ``h``
(heartbeat), ``a[...]`` (a JSON array of messages) or ``c[code,"reason"]`` (close). Each message
in an ``a`` frame is either a response ``{"i": id, "s": status, "d": data}`` or a server event
``{"e": kind, "d": data}``.

Client to server, every message is a request document of four newline-separated fields,
``endpoint\\nid\\nquery\\nbody``, or the heartbeat ``[]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlencode

from .._guards import safe_preview
from ..errors import LocalProtocolError, RemoteProtocolError
from ..jsonlib import dumps_str, loads

__all__ = [
    "CLIENT_HEARTBEAT",
    "FRAME_HEARTBEAT",
    "FRAME_OPEN",
    "FrameError",
    "Query",
    "RequestDocument",
    "decode_array_frame",
    "decode_close_frame",
    "decode_frame",
    "decode_request",
    "encode_close",
    "encode_messages",
    "encode_query",
    "encode_request",
    "event_message",
    "response_message",
    "unwrap_error_text",
]

CLIENT_HEARTBEAT = "[]"
FRAME_OPEN = "o"
FRAME_HEARTBEAT = "h"

Query = str | Mapping[str, Any] | None
Body = str | Mapping[str, Any] | Sequence[Any] | None


class FrameError(RemoteProtocolError):
    """A frame, message or request document that breaks Tradovate's format.

    A ``RemoteProtocolError``: the connection that finds it ends with it as the ``error`` of
    its ``Closed`` event. ``close_code`` is the WebSocket code that answers it (1002 unless
    said otherwise; 1007 for JSON that does not parse).
    """

    def __init__(self, message: str, close_code: int = 1002) -> None:
        super().__init__(message, close_code)


def _preview(value: object, limit: int = 60) -> str:
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if not isinstance(value, str):
        return safe_preview(value, limit)
    return value if len(value) <= limit else value[:limit] + "..."


def decode_frame(text: str) -> tuple[str, Any]:
    """One server frame as ``(letter, payload)``.

    ``("o", None)``, ``("h", None)``, ``("a", value)`` or ``("c", (code, reason))``; the value
    of an ``a`` frame is whatever JSON it holds (a list of messages, unless the server broke
    the format: that is the caller's to judge). Raises ``FrameError`` for anything else.
    """
    if not text:
        raise FrameError("empty message: a Tradovate frame starts with a type letter (o, h, a, c)")
    letter = text[0]
    if letter == "a":
        return "a", decode_array_frame(text)
    if letter == "h" and len(text) == 1:
        return "h", None
    if letter == "o" and len(text) == 1:
        return "o", None
    if letter == "c":
        return "c", decode_close_frame(text)
    raise FrameError(f"unknown frame {_preview(text)!r} (expected o, h, a[...] or c[...])")


def decode_array_frame(frame: str | bytes) -> Any:
    """The JSON of an ``a`` frame (text, or the frame's UTF-8 bytes), after its letter.

    Raises ``FrameError`` (close code 1007) when it is not JSON (bytes that are not UTF-8 are
    not JSON either; whether they break the transport's rule for text is the transport's to
    say, and the connection asks it).
    """
    try:
        return loads(frame[1:] if isinstance(frame, str) else memoryview(frame)[1:])
    except (ValueError, RecursionError) as exc:
        raise FrameError(f"'a' frame holds invalid JSON ({exc}): {_preview(frame)}", 1007) from None


def decode_close_frame(text: str) -> tuple[int | None, str]:
    """The code and reason of a ``c[code,"reason"]`` frame (a bare ``c`` has neither)."""
    if text == "c":
        return None, ""
    try:
        value = loads(text[1:])
    except (ValueError, RecursionError):
        value = None
    if (
        type(value) is not list
        or len(value) != 2
        or type(value[0]) is not int
        or not isinstance(value[1], str)
    ):
        raise FrameError(f"'c' frame must be c[code, \"reason\"], got {_preview(text)!r}")
    return value[0], value[1]


def unwrap_error_text(data: Any) -> str:
    """The text of an error response's ``d``, unwrapped once when it was JSON-encoded twice.

    Tradovate sends ``"d":"Access is denied"`` and sometimes ``"d":"\\"Access is denied\\""``.
    """
    if data is None:
        return ""
    if not isinstance(data, str):
        try:
            return dumps_str(data)
        except (RecursionError, ValueError, TypeError):
            # Parsed, but too deep to write back (json recurses where it parsed in C).
            return safe_preview(data, 200)
    if len(data) >= 2 and data[0] == '"' and data[-1] == '"':
        try:
            inner = loads(data)
        except (ValueError, RecursionError):
            return data
        if isinstance(inner, str):
            return inner
    return data


def encode_query(query: Query) -> str:
    """The query field: a string as given, or a mapping url-encoded as a REST query string."""
    if query is None:
        return ""
    if isinstance(query, str):
        return query
    pairs: list[tuple[str, str]] = []
    for key, value in query.items():
        values = value if isinstance(value, list | tuple) else [value]
        for item in values:
            if isinstance(item, bool):
                pairs.append((key, "true" if item else "false"))
            elif item is not None:
                pairs.append((key, str(item)))
    return urlencode(pairs)


def encode_body(body: Body) -> str:
    """The body field: a string as given (authorize sends the bare token), else compact JSON."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    return dumps_str(body)


def encode_request(endpoint: str, request_id: int, query: Query = None, body: Body = None) -> str:
    """A client request document. Raises ``LocalProtocolError`` for a field that cannot be sent."""
    if endpoint.startswith("/"):
        endpoint = endpoint[1:]
    if not endpoint or any(c in endpoint for c in "\n\r ?"):
        raise LocalProtocolError(
            f"invalid endpoint {endpoint!r}: give the REST operation name, e.g. 'contract/find'"
        )
    query_text = encode_query(query)
    if "\n" in query_text:
        raise LocalProtocolError("a query may not contain a newline: it would shift the body field")
    return f"{endpoint}\n{request_id}\n{query_text}\n{encode_body(body)}"


class RequestDocument(NamedTuple):
    """A decoded client request (server role)."""

    endpoint: str
    request_id: int
    query: str
    body: str

    def json_body(self) -> Any:
        """The body parsed as JSON (``None`` when empty)."""
        return loads(self.body) if self.body else None

    def __repr__(self) -> str:
        body = "<redacted>" if self.endpoint.lower() == "authorize" else _preview(self.body)
        return (
            f"RequestDocument(endpoint={self.endpoint!r}, request_id={self.request_id!r}, "
            f"query={self.query!r}, body={body!r})"
        )


def decode_request(text: str) -> RequestDocument:
    """A client request document; raises ``FrameError`` when it is not one."""
    fields = text.split("\n", 3)
    if len(fields) < 2 or not fields[0]:
        raise FrameError(
            f"not a request document (endpoint\\nid\\nquery\\nbody): {_preview(text)!r}"
        )
    try:
        request_id = int(fields[1])
    except ValueError:
        raise FrameError(f"request id {_preview(fields[1])!r} is not an integer") from None
    query = fields[2] if len(fields) > 2 else ""
    body = fields[3] if len(fields) > 3 else ""
    return RequestDocument(fields[0], request_id, query, body)


def response_message(request_id: int, status: int, data: Any = None) -> dict[str, Any]:
    """A response as the server sends it (``d`` left out when ``data`` is None)."""
    message: dict[str, Any] = {"s": status, "i": request_id}
    if data is not None:
        message["d"] = data
    return message


def event_message(kind: str, data: Any) -> dict[str, Any]:
    """A server event, e.g. ``event_message("md", {"quotes": [...]})``."""
    return {"e": kind, "d": data}


def encode_messages(messages: Sequence[Mapping[str, Any]]) -> str:
    """An ``a`` frame carrying the messages in order."""
    return "a" + dumps_str(list(messages))


def encode_close(code: int, reason: str) -> str:
    """A ``c[code,"reason"]`` frame."""
    return "c" + dumps_str([code, reason])
