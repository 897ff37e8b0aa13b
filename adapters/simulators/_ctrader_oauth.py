"""The cTrader simulator's OAuth endpoints: ``/apps/auth`` and ``/apps/token``.

``/apps/auth`` stands in for the page where the account owner grants access: it sends the
browser straight back to ``redirect_uri`` with a one-time ``code`` (and the ``state``).
``/apps/token`` trades that code (``grant_type=authorization_code``) or the refresh token
(``grant_type=refresh_token``) for a new access token and refresh token, as cTrader does; the
old refresh token is spent, and every session on the old access token gets
``ProtoOAAccountsTokenInvalidatedEvent``. Refusals come on demand (``refuse_refreshes``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ._http import HttpAnswer, HttpCall
from ._limits import Refusals

__all__ = ["CTraderAuthority"]

AUTH_PATH = "/apps/auth"
TOKEN_PATH = "/apps/token"  # noqa: S105 - a path, not a secret


class CTraderAuthority:
    """The application's codes and grants; ``issue`` sets the simulator's new tokens."""

    def __init__(
        self,
        *,
        client_id: Callable[[], str],
        client_secret: Callable[[], str],
        refresh_token: Callable[[], str],
        issue: Callable[[str, str], None],
        token_lifetime: float,
    ) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._issue = issue
        self.token_lifetime = token_lifetime
        self.refreshes = 0
        self.codes_exchanged = 0
        self._codes: dict[str, str] = {}  # code -> the redirect_uri it was given for
        self.refusals = Refusals()

    def handle(self, call: HttpCall) -> HttpAnswer:
        if call.method != "GET":
            return HttpAnswer(405, {"errorCode": "METHOD_NOT_ALLOWED"})
        if call.path == AUTH_PATH:
            return self._authorize(call.query)
        if call.path == TOKEN_PATH:
            return self._token(call.query)
        return HttpAnswer(404, {"errorCode": "NOT_FOUND", "description": call.path})

    def _authorize(self, query: dict[str, str]) -> HttpAnswer:
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != self._client_id() or not redirect:
            return HttpAnswer(400, {"errorCode": "INVALID_REQUEST", "description": "bad client"})
        code = secrets.token_hex(10)
        self._codes[code] = redirect
        back = {"code": code}
        if "state" in query:
            back["state"] = query["state"]
        separator = "&" if "?" in redirect else "?"
        return HttpAnswer(302, None, (("Location", f"{redirect}{separator}{urlencode(back)}"),))

    def _token(self, query: dict[str, str]) -> HttpAnswer:
        if (
            query.get("client_id") != self._client_id()
            or query.get("client_secret") != self._client_secret()
        ):
            return _denied("ACCESS_DENIED", "client_id or client_secret is incorrect")
        grant = query.get("grant_type")
        if grant == "authorization_code":
            code = query.get("code", "")
            if self._codes.pop(code, None) != query.get("redirect_uri"):
                return _denied("INVALID_GRANT", "the code is invalid or was used")
            self.codes_exchanged += 1
            return self._new_tokens()
        if grant == "refresh_token":
            refused, status = self.refusals.take("refresh")
            if refused:
                return HttpAnswer(status, {"description": "temporarily unavailable"})
            if query.get("refresh_token") != self._refresh_token():
                return _denied("INVALID_GRANT", "the refresh token is invalid or was spent")
            self.refreshes += 1
            return self._new_tokens()
        return _denied("UNSUPPORTED_GRANT_TYPE", "grant_type must be authorization_code")

    def _new_tokens(self) -> HttpAnswer:
        access, refresh = f"sim-at-{secrets.token_hex(12)}", f"sim-rt-{secrets.token_hex(12)}"
        self._issue(access, refresh)
        answer: dict[str, Any] = {
            "accessToken": access,
            "tokenType": "bearer",
            "expiresIn": self.token_lifetime,
            "refreshToken": refresh,
        }
        return HttpAnswer(200, answer)


def _denied(code: str, description: str) -> HttpAnswer:
    return HttpAnswer(400, {"errorCode": code, "description": description})
