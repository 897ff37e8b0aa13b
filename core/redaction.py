"""Credentials never leave the process in a repr, a log line or CLI output.

Both brokers put secrets inside ordinary JSON: cTrader's application and account auth carry
``clientSecret`` and ``accessToken``, its token refresh ``refreshToken``; Tradovate's
``accessTokenRequest`` carries ``password`` and ``sec`` and its answer ``accessToken`` and
``mdAccessToken``. Anything shown to a person goes through ``redact`` first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "SECRET_FIELDS", "redact"]

REDACTED = "<redacted>"

SECRET_FIELDS = frozenset(
    {"accessToken", "clientSecret", "mdAccessToken", "password", "refreshToken", "sec"}
)


def redact(value: Any) -> Any:
    """A copy of ``value`` (decoded JSON) with every credential field's value replaced."""
    if isinstance(value, Mapping):
        return {k: REDACTED if k in SECRET_FIELDS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
