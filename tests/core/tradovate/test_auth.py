"""Tradovate sign-in and renewal: requests as a server reads them, answers as results."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import h11
import pytest

from brokerwire.core.errors import RemoteProtocolError
from brokerwire.core.http.connection import HttpClientConnection
from brokerwire.core.http.events import Failed, Response, TimedOut
from brokerwire.core.http.request import HttpRequest
from brokerwire.core.secret import Secret
from brokerwire.core.tokens import RenewalSchedule, TokenFailure, TokenStatus
from brokerwire.core.tradovate.auth import (
    DEMO_URL,
    AccessToken,
    Penalty,
    TradovateCredentials,
    access_token_request,
    parse_token_answer,
    renew_access_token_request,
)
from tests.helpers import byte_by_byte

PASSWORD, SEC, TOKEN, MD_TOKEN = "hunter2-pw", "api-secret-xyz", "tok-AAAA", "md-tok-BBBB"
SECRETS = (PASSWORD, SEC, TOKEN, MD_TOKEN)
DATE = "Sun, 06 Dec 2026 20:00:00 GMT"
CREDENTIALS = TradovateCredentials(
    name="trader",
    password=Secret(PASSWORD),
    app_id="My App",
    app_version="1.0",
    cid=8,
    sec=Secret(SEC),
    device_id="dev-1",
)
GRANTED = {
    "accessToken": TOKEN,
    "mdAccessToken": MD_TOKEN,
    "expirationTime": "2026-12-06T21:30:00Z",
    "passwordExpirationTime": "2027-06-01T00:00:00Z",
    "userStatus": "Active",
    "userId": 42,
    "name": "trader",
    "hasLive": False,
}


class Server:
    """An h11 server that reads one request and answers it."""

    def __init__(self) -> None:
        self.h11 = h11.Connection(h11.SERVER)
        self.request: h11.Request | None = None
        self.body = b""

    def read(self, data: bytes) -> None:
        self.h11.receive_data(data)
        while (event := self.h11.next_event()) not in (h11.NEED_DATA, h11.PAUSED):
            if isinstance(event, h11.Request):
                self.request = event
            elif isinstance(event, h11.Data):
                self.body += event.data
            elif isinstance(event, h11.EndOfMessage):
                return

    def answer(self, value: object, status: int = 200, date: str | None = DATE) -> bytes:
        body = json.dumps(value).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if date is not None:
            headers.append(("Date", date))
        return (
            self.h11.send(h11.Response(status_code=status, headers=headers))
            + self.h11.send(h11.Data(data=body))
            + self.h11.send(h11.EndOfMessage())
        )

    def header(self, name: bytes) -> bytes | None:
        assert self.request is not None
        return dict(self.request.headers).get(name)


def exchange(
    request: HttpRequest, value: object, *, status: int = 200, date: str | None = DATE
) -> tuple[Server, Response]:
    """Run ``request`` against a server that answers ``value``, fed byte by byte."""
    client = HttpClientConnection()
    client.send_request(request, 0.0)
    server = Server()
    server.read(client.data_to_send())
    events = []
    for piece in byte_by_byte(server.answer(value, status, date)):
        events.extend(client.receive_data(piece, 1.0))
    assert len(events) == 1
    assert isinstance(events[0], Response)
    return server, events[0]


def test_the_sign_in_request_is_the_documented_post() -> None:
    server, _ = exchange(access_token_request(DEMO_URL, CREDENTIALS), GRANTED)
    assert server.request is not None
    assert server.request.method == b"POST"
    assert server.request.target == b"/v1/auth/accesstokenrequest"
    assert server.header(b"host") == b"demo.tradovateapi.com"
    assert server.header(b"content-type") == b"application/json"
    assert server.header(b"authorization") is None
    assert json.loads(server.body) == {
        "name": "trader",
        "password": PASSWORD,
        "appId": "My App",
        "appVersion": "1.0",
        "cid": 8,
        "sec": SEC,
        "deviceId": "dev-1",
    }


def test_a_granted_sign_in_gives_the_tokens_and_the_expiry_on_the_callers_clock() -> None:
    _, response = exchange(access_token_request(DEMO_URL, CREDENTIALS), GRANTED)
    token = parse_token_answer(response, now=500.0)
    assert isinstance(token, AccessToken)
    assert token.access_token.reveal() == TOKEN
    assert token.md_access_token is not None
    assert token.md_access_token.reveal() == MD_TOKEN
    assert token.expiration_time == datetime(2026, 12, 6, 21, 30, tzinfo=UTC)
    assert token.expires_at == 500.0 + 90 * 60  # the Date header is 20:00:00
    assert (token.user_id, token.user_status, token.has_live) == (42, "Active", False)


def test_a_given_wall_time_places_the_expiry_instead_of_the_date_header() -> None:
    _, response = exchange(access_token_request(DEMO_URL, CREDENTIALS), GRANTED, date=None)
    wall = datetime(2026, 12, 6, 20, 10, tzinfo=UTC)
    token = parse_token_answer(response, now=0.0, wall_time=wall)
    assert isinstance(token, AccessToken)
    assert token.expires_at == 80 * 60


def test_without_a_date_header_or_a_wall_time_the_expiry_cannot_be_placed() -> None:
    _, response = exchange(access_token_request(DEMO_URL, CREDENTIALS), GRANTED, date=None)
    failure = parse_token_answer(response, now=0.0)
    assert isinstance(failure, TokenFailure)
    assert "no Date header" in failure.reason


def test_a_refused_sign_in_is_a_final_failure_with_the_servers_words() -> None:
    _, response = exchange(
        access_token_request(DEMO_URL, CREDENTIALS),
        {"errorText": "Incorrect username or password. Please try again."},
    )
    failure = parse_token_answer(response, now=0.0)
    assert failure == TokenFailure(
        "sign-in refused: Incorrect username or password. Please try again.", 200, final=True
    )


def test_a_penalty_then_success_sends_the_ticket_after_the_wait() -> None:
    _, response = exchange(
        access_token_request(DEMO_URL, CREDENTIALS),
        {"p-ticket": "ticket-123", "p-time": 7, "p-captcha": False},
    )
    penalty = parse_token_answer(response, now=100.0)
    assert penalty == Penalty("ticket-123", 7.0)
    assert isinstance(penalty, Penalty)
    assert penalty.retry_at(100.0) == 107.0
    again = access_token_request(DEMO_URL, CREDENTIALS, ticket=penalty.ticket)
    server, response = exchange(again, GRANTED)
    assert json.loads(server.body)["p-ticket"] == "ticket-123"
    assert isinstance(parse_token_answer(response, now=107.0), AccessToken)


def test_a_captcha_penalty_tells_the_user_to_sign_in_in_a_browser() -> None:
    _, response = exchange(
        access_token_request(DEMO_URL, CREDENTIALS),
        {"p-ticket": "t", "p-time": 3600, "p-captcha": True},
    )
    failure = parse_token_answer(response, now=0.0)
    assert isinstance(failure, TokenFailure)
    assert failure.final
    assert "CAPTCHA" in failure.reason
    assert "in a browser" in failure.reason


def test_renewal_is_a_get_with_the_current_token_as_bearer() -> None:
    server, response = exchange(renew_access_token_request(DEMO_URL, Secret(TOKEN)), GRANTED)
    assert server.request is not None
    assert server.request.method == b"GET"
    assert server.request.target == b"/v1/auth/renewaccesstoken"
    assert server.header(b"authorization") == f"Bearer {TOKEN}".encode()
    assert server.body == b""
    assert isinstance(parse_token_answer(response, now=0.0), AccessToken)


def test_a_renewal_answer_without_an_md_token_leaves_it_unset() -> None:
    renewed = {k: v for k, v in GRANTED.items() if k != "mdAccessToken"}
    _, response = exchange(renew_access_token_request(DEMO_URL, TOKEN), renewed)
    token = parse_token_answer(response, now=0.0)
    assert isinstance(token, AccessToken)
    assert token.md_access_token is None


def test_an_expired_token_at_renewal_is_final() -> None:
    _, response = exchange(renew_access_token_request(DEMO_URL, TOKEN), "Expired", status=401)
    failure = parse_token_answer(response, now=0.0)
    assert isinstance(failure, TokenFailure)
    assert (failure.status_code, failure.final) == (401, True)
    assert "sign in again" in failure.reason


@pytest.mark.parametrize(
    ("status", "final"), [(500, False), (503, False), (429, False), (400, True)]
)
def test_a_server_error_is_passing_and_a_client_error_final(status: int, final: bool) -> None:
    _, response = exchange(renew_access_token_request(DEMO_URL, TOKEN), "nope", status=status)
    failure = parse_token_answer(response, now=0.0)
    assert isinstance(failure, TokenFailure)
    assert (failure.status_code, failure.final) == (status, final)


@pytest.mark.parametrize(
    "value",
    [
        [1, 2],
        {"userId": 1},
        {"accessToken": 5, "expirationTime": "2026-12-06T21:30:00Z"},
        {"accessToken": TOKEN, "expirationTime": "tomorrow"},
        {"accessToken": TOKEN},
    ],
)
def test_an_answer_of_an_unexpected_shape_is_a_passing_failure(value: object) -> None:
    _, response = exchange(access_token_request(DEMO_URL, CREDENTIALS), value)
    failure = parse_token_answer(response, now=0.0)
    assert isinstance(failure, TokenFailure)
    assert not failure.final
    assert TOKEN not in repr(failure)


def test_no_answer_is_a_passing_failure() -> None:
    assert parse_token_answer(TimedOut(30.0), now=0.0) == TokenFailure("no answer within 30 s")
    failed = parse_token_answer(Failed(RemoteProtocolError("closed")), now=0.0)
    assert failed == TokenFailure("closed")


def test_sign_in_then_renewals_on_the_schedule() -> None:
    """The schedule driven by answers: renew 15 minutes before each expiry."""
    schedule = RenewalSchedule()
    _, response = exchange(access_token_request(DEMO_URL, CREDENTIALS), GRANTED)
    token = parse_token_answer(response, now=0.0)
    assert isinstance(token, AccessToken)
    schedule.token_received(0.0, token.expires_at)
    assert schedule.next_deadline() == 75 * 60
    now = 75 * 60
    assert schedule.status(now) is TokenStatus.DUE
    schedule.attempt_started(now)
    _, failed = exchange(renew_access_token_request(DEMO_URL, token.access_token), "", status=503)
    assert isinstance(parse_token_answer(failed, now=now), TokenFailure)
    schedule.attempt_failed(now)
    assert schedule.next_deadline() == now + 5.0
    later = {**GRANTED, "expirationTime": "2026-12-06T23:00:00Z"}
    _, renewed = exchange(renew_access_token_request(DEMO_URL, token.access_token), later)
    wall = datetime(2026, 12, 6, 21, 15, 5, tzinfo=UTC)
    new = parse_token_answer(renewed, now=now + 5.0, wall_time=wall)
    assert isinstance(new, AccessToken)
    schedule.token_received(now + 5.0, new.expires_at)
    assert new.expires_at == now + 5.0 + (105 * 60 - 5)
    assert schedule.renew_at == new.expires_at - 15 * 60


def test_no_secret_shows_in_any_repr() -> None:
    shown = [
        repr(CREDENTIALS),
        str(CREDENTIALS),
        repr(access_token_request(DEMO_URL, CREDENTIALS)),
        repr(renew_access_token_request(DEMO_URL, Secret(TOKEN))),
    ]
    _, response = exchange(access_token_request(DEMO_URL, CREDENTIALS), GRANTED)
    shown += [repr(response), repr(parse_token_answer(response, now=0.0))]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text, text


def test_credentials_given_as_text_are_held_as_secrets() -> None:
    plain = TradovateCredentials(
        name="n",
        password=PASSWORD,  # type: ignore[arg-type]
        app_id="a",
        app_version="1",
        cid="8",
        sec=SEC,  # type: ignore[arg-type]
    )
    assert isinstance(plain.password, Secret)
    assert isinstance(plain.sec, Secret)
    assert PASSWORD not in repr(plain)
    assert json.loads(access_token_request(DEMO_URL, plain).body)["password"] == PASSWORD
