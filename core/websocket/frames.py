"""RFC 6455 frame constants and encoders, and the close-frame payload rules.

Decoding lives in ``connection.py``, in one loop that parses every complete frame of a
``receive_data`` call; this module holds the pieces that loop and the send path share.
"""

from __future__ import annotations

import struct

from ..errors import RemoteProtocolError

__all__ = [
    "CLOSE_NO_STATUS",
    "MAX_CONTROL_PAYLOAD",
    "OP_BINARY",
    "OP_CLOSE",
    "OP_CONTINUATION",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "CloseCode",
    "apply_mask",
    "check_close_code_to_send",
    "encode_close_payload",
    "encode_frame",
    "parse_close_payload",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA

MAX_CONTROL_PAYLOAD = 125
CLOSE_NO_STATUS = 1005


class CloseCode:
    """The close codes brokerwire sends or explains (RFC 6455 §7.4 and the IANA registry)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    NO_STATUS = 1005
    ABNORMAL = 1006
    INVALID_DATA = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


# Codes a peer may put in a close frame: the registered ones below 3000 that are not reserved
# for local use (1005, 1006, 1015), and the whole 3000-4999 range for libraries and apps.
_REGISTERED_SENDABLE = frozenset(
    {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014}
)

_pack_short = struct.Struct("!H").pack
_pack_long = struct.Struct("!Q").pack


def is_sendable_close_code(code: int) -> bool:
    return code in _REGISTERED_SENDABLE or 3000 <= code <= 4999


def check_close_code_to_send(code: int) -> str | None:
    """Why ``code`` may not be sent in a close frame, or ``None`` when it may."""
    if is_sendable_close_code(code):
        return None
    if code in (1005, 1006, 1015):
        return f"close code {code} is reserved for reporting and may not be sent"
    return f"close code {code} is not a valid code to send (use 1000-1014 or 3000-4999)"


def apply_mask(data: bytes, key: bytes) -> bytes:
    """XOR ``data`` with the 4-byte masking ``key`` (the operation is its own inverse).

    Done as one big-integer XOR, which is about twenty times faster in pure Python than a loop
    over the bytes.
    """
    length = len(data)
    if not length:
        return b""
    repeated = (key * (length // 4 + 1))[:length]
    return (int.from_bytes(data, "little") ^ int.from_bytes(repeated, "little")).to_bytes(
        length, "little"
    )


def encode_frame(
    opcode: int, payload: bytes, *, fin: bool = True, mask_key: bytes | None = None
) -> bytes:
    """Serialise one frame. ``mask_key`` is required from clients and forbidden to servers."""
    length = len(payload)
    first = (0x80 if fin else 0) | opcode
    mask_bit = 0x80 if mask_key is not None else 0
    if length < 126:
        header = bytes((first, mask_bit | length))
    elif length < 65536:
        header = bytes((first, mask_bit | 126)) + _pack_short(length)
    else:
        header = bytes((first, mask_bit | 127)) + _pack_long(length)
    if mask_key is None:
        return header + payload
    return header + mask_key + apply_mask(payload, mask_key)


def encode_close_payload(code: int | None, reason: str) -> bytes:
    """The body of a close frame: nothing, or a code and a reason cut to fit in 125 bytes."""
    if code is None or code == CLOSE_NO_STATUS:
        return b""
    encoded = reason.encode()
    if len(encoded) > MAX_CONTROL_PAYLOAD - 2:
        # Cut at a character boundary so the reason stays valid UTF-8.
        encoded = encoded[: MAX_CONTROL_PAYLOAD - 2].decode(errors="ignore").encode()
    return _pack_short(code) + encoded


class InvalidClosePayload(RemoteProtocolError):
    """A peer's close frame broke the rules; ``close_code`` is the code that answers it."""

    close_code: int

    def __init__(self, message: str, close_code: int) -> None:
        super().__init__(message, close_code)


def parse_close_payload(payload: bytes) -> tuple[int, str]:
    """The code and reason of a received close frame (1005 and "" when it carries neither)."""
    if not payload:
        return CLOSE_NO_STATUS, ""
    if len(payload) == 1:
        raise InvalidClosePayload("close frame with a 1-byte payload (a code takes 2 bytes)", 1002)
    code = (payload[0] << 8) | payload[1]
    if not is_sendable_close_code(code):
        raise InvalidClosePayload(f"close frame with invalid close code {code}", 1002)
    try:
        reason = payload[2:].decode()
    except UnicodeDecodeError as exc:
        raise InvalidClosePayload(
            f"close frame reason is not valid UTF-8 ({exc.reason})", 1007
        ) from exc
    return code, reason
