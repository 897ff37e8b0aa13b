"""A credential held in the core: it never shows itself in a repr, a message or a log line.

The sign-in and renewal exchanges carry passwords, API secrets, client secrets, access and
refresh tokens. Each is held as a ``Secret`` from the moment a caller hands it over or an
answer is decoded, so a result printed, logged or put in an exception shows ``<redacted>``.
Only ``reveal()`` gives the value, for the one place that sends it.

``redact_url`` hides the values of credential query parameters, since cTrader's token endpoint
takes its secrets in the query string.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .redaction import REDACTED

__all__ = ["SECRET_QUERY_PARAMETERS", "Secret", "decode_secret", "redact_url", "reveal"]

#: Query parameters whose values are credentials (OAuth's own names and the brokers').
SECRET_QUERY_PARAMETERS = frozenset(
    {
        "access_token",
        "client_secret",
        "code",
        "password",
        "refresh_token",
        "accessToken",
        "refreshToken",
        "clientSecret",
    }
)


class Secret:
    """A credential that prints as ``<redacted>`` and gives its value only to ``reveal()``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"a Secret holds a str, not {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """The credential itself, for the one place that sends it."""
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)


def reveal(value: Secret | str) -> str:
    """The text of a credential given either as a ``Secret`` or as plain text."""
    return value.reveal() if isinstance(value, Secret) else value


def decode_secret(kind: type, value: Any) -> Any:
    """A msgspec ``dec_hook``: a JSON string decoded where a model declares ``Secret``."""
    if kind is Secret and isinstance(value, str):
        return Secret(value)
    raise TypeError(f"expected a str for {kind.__name__}, got {type(value).__name__}")


def redact_url(url: str) -> str:
    """``url`` with the value of every credential query parameter replaced by ``<redacted>``."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    shown = [(k, REDACTED if k in SECRET_QUERY_PARAMETERS else v) for k, v in pairs]
    return urlunsplit(parts._replace(query=urlencode(shown, safe="<>")))
