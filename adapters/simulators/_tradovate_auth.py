"""The Tradovate simulator's REST sign-in: ``auth/accesstokenrequest`` and
``auth/renewaccesstoken``, as the service answers them.

A sign-in with the right name, password, app id, cid and secret opens a session and gets an
``accessToken`` and an ``mdAccessToken`` that last ``token_lifetime`` seconds; a renewal with a
token of the session (as Bearer, before it expires) gets new ones for the same session, so a
test can count sessions (``sessions_opened``) as Tradovate does. Refusals come on demand: a
time penalty (``p-ticket``, ``p-time``; the sign-in sent again with the ticket passes), a
CAPTCHA, a wrong-credentials answer, and renewals answered with an HTTP error.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from typing import Any, NamedTuple

from ._http import HttpAnswer, HttpCall
from ._limits import Refusals

__all__ = ["SIGN_IN_PATH", "TradovateAuthority"]

SIGN_IN_PATH = "/v1/auth/accesstokenrequest"
RENEW_PATH = "/v1/auth/renewaccesstoken"


class _Issued(NamedTuple):
    session: int
    market_data: bool
    expires_at: float  # on the simulator's loop clock


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TradovateAuthority:
    """Who may sign in, the tokens given out, and the refusals a test armed."""

    def __init__(
        self,
        *,
        credentials: dict[str, Any],
        token_lifetime: float,
        user_id: int,
        clock: Callable[[], float],
    ) -> None:
        self.credentials = credentials
        self.token_lifetime = token_lifetime
        self.user_id = user_id
        self._clock = clock
        self.sessions_opened = 0
        self.renewals = 0
        self._issued: dict[str, _Issued] = {}
        self._tickets: set[str] = set()
        self.refusals = Refusals()

    def accepts(self, token: Any, *, market_data: bool) -> bool:
        """Whether a socket may authorize with ``token`` now."""
        issued = self._issued.get(token) if isinstance(token, str) else None
        return (
            issued is not None
            and issued.market_data == market_data
            and self._clock() < issued.expires_at
        )

    def handle(self, call: HttpCall) -> HttpAnswer:
        if call.path == SIGN_IN_PATH and call.method == "POST":
            return self._sign_in(call)
        if call.path == RENEW_PATH and call.method == "GET":
            return self._renew(call)
        return HttpAnswer(404, {"errorText": f"Not found: {call.path}"})

    def _sign_in(self, call: HttpCall) -> HttpAnswer:
        try:
            body = json.loads(call.body)
        except (ValueError, RecursionError):
            return HttpAnswer(400, {"errorText": "Malformed JSON body"})
        if not isinstance(body, dict):
            return HttpAnswer(400, {"errorText": "Malformed request"})
        ticket = body.get("p-ticket")
        if ticket in self._tickets:
            self._tickets.discard(ticket)
        else:
            refused, how = self.refusals.take("sign-in")
            if refused:
                return self._refusal(how)
        wanted = self.credentials
        given = {key: body.get(key) for key in wanted}
        if given != wanted:
            return HttpAnswer(
                200, {"errorText": "Incorrect username or password. Please try again."}
            )
        self.sessions_opened += 1
        return HttpAnswer(200, self._tokens(self.sessions_opened))

    def _refusal(self, how: Any) -> HttpAnswer:
        kind, value = how
        if kind == "penalty":
            ticket = secrets.token_hex(8)
            self._tickets.add(ticket)
            return HttpAnswer(200, {"p-ticket": ticket, "p-time": value})
        if kind == "captcha":
            captcha = {"p-ticket": secrets.token_hex(8), "p-time": 0, "p-captcha": True}
            return HttpAnswer(200, captcha)
        return HttpAnswer(200, {"errorText": value})

    def _renew(self, call: HttpCall) -> HttpAnswer:
        refused, status = self.refusals.take("renew")
        if refused:
            return HttpAnswer(status, {"errorText": "Service temporarily unavailable"})
        scheme, _, token = call.headers.get("authorization", "").partition(" ")
        issued = self._issued.get(token) if scheme.lower() == "bearer" else None
        if issued is None or issued.market_data or self._clock() >= issued.expires_at:
            return HttpAnswer(401, {"errorText": "Access is denied"})
        self.renewals += 1
        return HttpAnswer(200, self._tokens(issued.session))

    def _tokens(self, session: int) -> dict[str, Any]:
        expires_at = self._clock() + self.token_lifetime
        expiry = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.token_lifetime)
        access, md = f"sim-at-{secrets.token_hex(12)}", f"sim-md-{secrets.token_hex(12)}"
        self._issued[access] = _Issued(session, False, expires_at)
        self._issued[md] = _Issued(session, True, expires_at)
        return {
            "accessToken": access,
            "mdAccessToken": md,
            "expirationTime": _iso(expiry),
            "userStatus": "Active",
            "userId": self.user_id,
            "name": self.credentials["name"],
            "hasLive": False,
        }
