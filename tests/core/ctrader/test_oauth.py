"""cTrader OAuth: the authorization URL, the two grants as a server reads them, the answers."""

from __future__ import annotations

import json
import random
from urllib.parse import parse_qs, urlsplit

import h11
import pytest

from brokerwire.core.ctrader.oauth import (
    AUTHORIZE_URL,
    OAuthApp,
    OAuthToken,
    authorization_url,
    code_exchange_request,
    parse_token_answer,
    refresh_request,
)
from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.http.connection import HttpClientConnection
from brokerwire.core.http.events import Failed, Response, TimedOut
from brokerwire.core.http.request import HttpRequest
from brokerwire.core.secret import Secret
from brokerwire.core.tokens import RenewalSchedule, TokenFailure, TokenStatus
from tests.helpers import random_chunks

CLIENT_SECRET, CODE, ACCESS, REFRESH = "cs-secret-1", "auth-code-2", "acc-3333", "ref-4444"
SECRETS = (CLIENT_SECRET, CODE, ACCESS, REFRESH)
APP = OAuthApp(
    client_id="123_abc",
    client_secret=Secret(CLIENT_SECRET),
    redirect_uri="http://127.0.0.1:8765/cb",
)
GRANTED = {
    "accessToken": ACCESS,
    "refreshToken": REFRESH,
    "expiresIn": 2628000,
    "tokenType": "bearer",
    "errorCode": None,
    "description": None,
}


def run(request: HttpRequest, value: object, status: int = 200) -> tuple[h11.Request, Response]:
    """``request`` against an h11 server answering ``value`` with chunks, cut at random."""
    client = HttpClientConnection()
    client.send_request(request, 0.0)
    server = h11.Connection(h11.SERVER)
    server.receive_data(client.data_to_send())
    head = server.next_event()
    assert isinstance(head, h11.Request)
    assert isinstance(server.next_event(), h11.EndOfMessage)
    body = json.dumps(value).encode()
    wire = (
        server.send(h11.Response(status_code=status, headers=[("Transfer-Encoding", "chunked")]))
        + server.send(h11.Data(data=body))
        + server.send(h11.EndOfMessage())
    )
    events = []
    for piece in random_chunks(wire, random.Random(len(wire))):
        events.extend(client.receive_data(piece, 1.0))
    assert len(events) == 1
    assert isinstance(events[0], Response)
    return head, events[0]


def query_of(target: bytes) -> dict[str, list[str]]:
    return parse_qs(urlsplit(target.decode()).query)


def test_the_authorization_url_asks_for_a_code_for_the_redirect() -> None:
    url = authorization_url(APP, state="xyz")
    assert url.startswith(AUTHORIZE_URL + "?")
    assert parse_qs(urlsplit(url).query) == {
        "client_id": ["123_abc"],
        "redirect_uri": ["http://127.0.0.1:8765/cb"],
        "scope": ["trading"],
        "state": ["xyz"],
    }
    assert CLIENT_SECRET not in url
    view_only = parse_qs(urlsplit(authorization_url(APP, scope="accounts")).query)
    assert view_only["scope"] == ["accounts"]
    assert "state" not in view_only


def test_the_code_exchange_is_the_documented_get() -> None:
    head, response = run(code_exchange_request(APP, CODE), GRANTED)
    assert head.method == b"GET"
    assert urlsplit(head.target.decode()).path == "/apps/token"
    assert dict(head.headers)[b"host"] == b"openapi.ctrader.com"
    assert query_of(head.target) == {
        "grant_type": ["authorization_code"],
        "code": [CODE],
        "redirect_uri": ["http://127.0.0.1:8765/cb"],
        "client_id": ["123_abc"],
        "client_secret": [CLIENT_SECRET],
    }
    token = parse_token_answer(response, now=10.0)
    assert isinstance(token, OAuthToken)
    assert token.access_token.reveal() == ACCESS
    assert token.refresh_token.reveal() == REFRESH
    assert (token.expires_in, token.expires_at, token.token_type) == (
        2628000.0,
        2628010.0,
        "bearer",
    )


def test_the_refresh_grant_sends_the_refresh_token() -> None:
    head, response = run(refresh_request(APP, Secret(REFRESH)), {**GRANTED, "expiresIn": "2628000"})
    assert query_of(head.target) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH],
        "client_id": ["123_abc"],
        "client_secret": [CLIENT_SECRET],
    }
    token = parse_token_answer(response, now=0.0)
    assert isinstance(token, OAuthToken)
    assert token.expires_at == 2628000.0


@pytest.mark.parametrize("status", [200, 400])
def test_an_error_answer_is_a_final_failure_with_its_code_and_description(status: int) -> None:
    _, response = run(
        refresh_request(APP, REFRESH),
        {"errorCode": "ACCESS_DENIED", "description": "refresh token is invalid"},
        status,
    )
    assert parse_token_answer(response, now=0.0) == TokenFailure(
        "cTrader refused the grant: ACCESS_DENIED: refresh token is invalid", status, final=True
    )


@pytest.mark.parametrize(
    "value",
    [
        {"accessToken": ACCESS, "expiresIn": 10},
        {"accessToken": ACCESS, "refreshToken": REFRESH},
        {"accessToken": ACCESS, "refreshToken": REFRESH, "expiresIn": -5},
        {"accessToken": 7, "refreshToken": REFRESH, "expiresIn": 10},
        "just text",
    ],
)
def test_an_answer_of_an_unexpected_shape_is_a_passing_failure(value: object) -> None:
    _, response = run(refresh_request(APP, REFRESH), value)
    failure = parse_token_answer(response, now=0.0)
    assert isinstance(failure, TokenFailure)
    assert not failure.final
    for secret in SECRETS:
        assert secret not in repr(failure)


def test_a_server_error_is_passing() -> None:
    _, response = run(refresh_request(APP, REFRESH), "oops", status=502)
    failure = parse_token_answer(response, now=0.0)
    assert isinstance(failure, TokenFailure)
    assert (failure.status_code, failure.final) == (502, False)


def test_no_answer_is_a_passing_failure() -> None:
    assert parse_token_answer(TimedOut(5.0), now=0.0) == TokenFailure("no answer within 5 s")
    assert parse_token_answer(Failed(RemoteProtocolError("x")), now=0.0) == TokenFailure("x")


def test_the_schedule_refreshes_a_30_day_token_15_minutes_before_its_end() -> None:
    _, response = run(code_exchange_request(APP, CODE), GRANTED)
    token = parse_token_answer(response, now=100.0)
    assert isinstance(token, OAuthToken)
    schedule = RenewalSchedule()
    schedule.token_received(100.0, token.expires_at)
    assert schedule.next_deadline() == 100.0 + 2628000 - 900
    assert schedule.status(100.0 + 2628000 - 901) is TokenStatus.VALID
    assert schedule.status(100.0 + 2628000 - 900) is TokenStatus.DUE


def test_no_secret_shows_in_any_repr() -> None:
    _, response = run(code_exchange_request(APP, CODE), GRANTED)
    shown = [
        repr(APP),
        repr(code_exchange_request(APP, CODE)),
        repr(refresh_request(APP, REFRESH)),
        repr(response),
        repr(parse_token_answer(response, now=0.0)),
    ]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text, text


def test_a_client_secret_given_as_text_is_held_as_a_secret() -> None:
    app = OAuthApp(client_id="1", client_secret=CLIENT_SECRET, redirect_uri="http://x/")  # type: ignore[arg-type]
    assert isinstance(app.client_secret, Secret)
    assert CLIENT_SECRET not in repr(app)
