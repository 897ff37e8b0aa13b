"""Credentials out of what the clients return: answers carry no token, as logs carry none.

``without_secrets`` is what every answer goes through: the value of a credential field
(``accessToken``, ``refreshToken`` ...) becomes ``"<redacted>"``. It walks the value without
recursion, so an answer nested a thousand levels deep cannot overflow the stack, and it copies
an answer only when it holds a credential: one that holds none is returned as it is.
``Secret`` holds a token the caller asked for on purpose (a refreshed access token): it prints
as ``<redacted>`` and gives its value only to ``reveal()``. It is the core's own
``brokerwire.core.secret.Secret``, offered here too: one class, whichever module it is taken from.
"""

from __future__ import annotations

from typing import Any

from brokerwire.core.redaction import REDACTED, SECRET_FIELDS
from brokerwire.core.secret import Secret

__all__ = ["Secret", "without_secrets"]


def _holds_secret(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):  # a cTrader payload is a dict subclass holding its message
            if not SECRET_FIELDS.isdisjoint(item):
                return True
            stack.extend(v for v in item.values() if type(v) is dict or type(v) is list)
        elif type(item) is list:
            stack.extend(v for v in item if type(v) is dict or type(v) is list)
    return False


def without_secrets(value: Any) -> Any:
    """``value`` (decoded JSON) with each credential field's value replaced by ``<redacted>``."""
    if not _holds_secret(value):
        return value
    root: list[Any] = [None]
    # Each entry: a source container, the target container, and where the copy goes in it.
    stack: list[tuple[Any, Any, Any]] = [(value, root, 0)]
    while stack:
        source, target, slot = stack.pop()
        if isinstance(source, dict):  # a plain copy: a payload's typed message is not redacted
            copy: Any = {}
            target[slot] = copy
            for key, item in source.items():
                if key in SECRET_FIELDS:
                    copy[key] = REDACTED
                elif type(item) is dict or type(item) is list:
                    copy[key] = None
                    stack.append((item, copy, key))
                else:
                    copy[key] = item
        else:
            copy = [None] * len(source)
            target[slot] = copy
            for index, item in enumerate(source):
                if type(item) is dict or type(item) is list:
                    stack.append((item, copy, index))
                else:
                    copy[index] = item
    return root[0]
