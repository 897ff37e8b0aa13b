"""``brokerwire login``: get a broker's tokens once, keep them in the user's token file.

``login tradovate`` signs in with the credentials of the environment (``TRADOVATE_USERNAME``,
``TRADOVATE_PASSWORD``, ``TRADOVATE_APP_ID``, ``TRADOVATE_CID``, ``TRADOVATE_SECRET``).
``login ctrader`` runs the OAuth code flow: it listens on a loopback port for cTrader's
redirect, prints the address to open in a browser, and trades the code it receives for tokens.
Either way the tokens go to a file only the user can read (``brokerwire.adapters.token_file``),
which ``brokerwire stream`` then uses and keeps renewed. Nothing secret is printed or logged.
"""

from __future__ import annotations

import argparse
import os
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from brokerwire.core.ctrader.oauth import AUTHORIZE_URL, OAuthApp, authorization_url
from brokerwire.core.secret import Secret
from brokerwire.core.tradovate.auth import DEMO_URL, TradovateCredentials

from ..errors import ConnectError
from ..logins import CTraderLogin, TradovateLogin
from ..token_file import TokenFileError, expiration_of, load_tokens, save_tokens, token_path
from ._common import CommandError, Output, port_number, positive_float

__all__ = [
    "CTRADER_OAUTH_URL",
    "add_parser",
    "ctrader_app",
    "ctrader_login_for_stream",
    "save_ctrader",
    "save_tradovate",
    "tradovate_credentials",
    "tradovate_login_for_stream",
]

CTRADER_OAUTH_URL = AUTHORIZE_URL.rsplit("/", 1)[0]
TRADOVATE_VARIABLES = (
    "TRADOVATE_USERNAME",
    "TRADOVATE_PASSWORD",
    "TRADOVATE_APP_ID",
    "TRADOVATE_CID",
    "TRADOVATE_SECRET",
)


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    login: argparse.ArgumentParser = commands.add_parser(
        "login",
        parents=parents,
        help="get a broker's tokens and keep them for 'stream'",
        description=(
            "Get a broker's tokens and keep them in a file only you can read "
            "($XDG_CONFIG_HOME/brokerwire or ~/.config/brokerwire), for 'brokerwire stream'."
        ),
    )
    brokers = login.add_subparsers(dest="broker", metavar="BROKER", required=True)
    tradovate = brokers.add_parser(
        "tradovate",
        parents=parents,
        help="sign in with $TRADOVATE_USERNAME, _PASSWORD, _APP_ID, _CID and _SECRET",
        description=(
            "Sign in to Tradovate with the credentials in TRADOVATE_USERNAME, "
            "TRADOVATE_PASSWORD, TRADOVATE_APP_ID, TRADOVATE_CID and TRADOVATE_SECRET, and "
            "keep the tokens (one session; 'stream' renews it)."
        ),
    )
    tradovate.add_argument(
        "--auth-url", default=DEMO_URL, help=f"the REST base to sign in at (default: {DEMO_URL})"
    )
    tradovate.set_defaults(run=run_tradovate, command_parser=tradovate)
    ctrader = brokers.add_parser(
        "ctrader",
        parents=parents,
        help="grant access in a browser (OAuth), with $CTRADER_CLIENT_ID and _SECRET",
        description=(
            "Run cTrader's OAuth code flow for the application in CTRADER_CLIENT_ID and "
            "CTRADER_CLIENT_SECRET: open the printed address, grant access, and the tokens are "
            "kept. The redirect URI http://127.0.0.1:PORT/callback must be registered with the "
            "application."
        ),
    )
    ctrader.add_argument(
        "--oauth-url",
        default=CTRADER_OAUTH_URL,
        help=f"the OAuth service (default: {CTRADER_OAUTH_URL})",
    )
    ctrader.add_argument(
        "--port",
        type=port_number,
        default=0,
        help="loopback port that receives the redirect (default: a free one)",
    )
    ctrader.add_argument(
        "--scope", choices=("trading", "accounts"), default="trading", help="what to grant"
    )
    ctrader.add_argument(
        "--wait",
        type=positive_float,
        default=300.0,
        help="seconds to wait for the grant (default: 300)",
    )
    ctrader.set_defaults(run=run_ctrader, command_parser=ctrader)


# -- shared with 'stream' --------------------------------------------------------------------


def tradovate_credentials(parser: argparse.ArgumentParser) -> TradovateCredentials:
    values = {name: os.environ.get(name, "") for name in TRADOVATE_VARIABLES}
    missing = [name for name, value in values.items() if not value]
    if missing:
        parser.error(f"signing in to Tradovate needs {', '.join(missing)} in the environment")
    cid = values["TRADOVATE_CID"]
    return TradovateCredentials(
        name=values["TRADOVATE_USERNAME"],
        password=Secret(values["TRADOVATE_PASSWORD"]),
        app_id=values["TRADOVATE_APP_ID"],
        app_version="1.0",
        cid=int(cid) if cid.isascii() and cid.isdigit() else cid,
        sec=Secret(values["TRADOVATE_SECRET"]),
    )


def ctrader_app(
    parser: argparse.ArgumentParser, oauth_url: str, redirect_uri: str = ""
) -> OAuthApp:
    client_id = os.environ.get("CTRADER_CLIENT_ID", "")
    client_secret = os.environ.get("CTRADER_CLIENT_SECRET", "")
    if not client_id or not client_secret:
        parser.error("cTrader's OAuth needs CTRADER_CLIENT_ID and CTRADER_CLIENT_SECRET")
    base = oauth_url.rstrip("/")
    return OAuthApp(
        client_id=client_id,
        client_secret=Secret(client_secret),
        redirect_uri=redirect_uri,
        token_url=f"{base}/token",
        authorize_url=f"{base}/auth",
    )


def save_tradovate(login: Any, auth_url: str, path: Path | None = None) -> Path:
    token = login.token
    target = path or token_path("tradovate")
    save_tokens(
        target,
        "tradovate",
        {
            "auth_url": auth_url,
            "access_token": token.access_token,
            "md_access_token": token.md_access_token,
            "expiration_time": token.expiration_time,
        },
    )
    return target


def save_ctrader(login: Any, oauth_url: str, path: Path | None = None) -> Path:
    token = login.token
    target = path or token_path("ctrader")
    save_tokens(
        target,
        "ctrader",
        {
            "oauth_url": oauth_url,
            "access_token": token.access_token,
            "refresh_token": token.refresh_token,
            "expiration_time": login.expiration_time,
        },
    )
    return target


# -- running -------------------------------------------------------------------------------------


def run_tradovate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    login = TradovateLogin(args.auth_url, tradovate_credentials(parser))
    try:
        login.start()
        path = save_tradovate(login, args.auth_url)
    except (ConnectError, TokenFileError, OSError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        login.close()
    expiry = login.expiration_time
    shown = expiry.isoformat(timespec="seconds") if expiry is not None else "unknown"
    Output().line(f"Signed in to Tradovate; tokens kept in {path} (valid until {shown}).")
    return 0


class _Redirect:
    """What the loopback listener received: the code, once its state matched."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.code: Secret | None = None
        self.error = ""
        self.done = threading.Event()


def _handler(redirect: _Redirect) -> type[BaseHTTPRequestHandler]:
    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/callback":  # a browser's other requests (an icon) wait their turn
                self.send_error(404)
                return
            query = parse_qs(parts.query)
            code, state = query.get("code", [""])[0], query.get("state", [""])[0]
            if code and secrets.compare_digest(state, redirect.state):
                redirect.code = Secret(code)
                message = "brokerwire: access granted. You may close this window."
            else:
                redirect.error = query.get("error", ["no code, or a state that does not match"])[0]
                message = "brokerwire: no access was granted."
            body = message.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            redirect.done.set()

        def log_message(self, format: str, *args: Any) -> None:
            """Silent: the request line holds the code."""

    return Callback


def run_ctrader(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    redirect = _Redirect(secrets.token_urlsafe(16))
    try:
        server = HTTPServer(("127.0.0.1", args.port), _handler(redirect))
    except OSError as exc:
        raise CommandError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from None
    with server:
        server.timeout = 0.2
        redirect_uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
        app = ctrader_app(parser, args.oauth_url, redirect_uri)
        output = Output()
        output.line("Open this address in a browser and grant access:")
        output.line(f"  {authorization_url(app, scope=args.scope, state=redirect.state)}")
        output.line(f"Waiting for cTrader's redirect to {redirect_uri} ...")
        end = time.monotonic() + args.wait
        while not redirect.done.is_set():
            if time.monotonic() >= end:
                raise CommandError(f"no grant came within {args.wait:g} s")
            server.handle_request()
    if redirect.code is None:
        raise CommandError(f"cTrader granted no access: {redirect.error[:200]}")
    login = CTraderLogin(app)
    try:
        login.exchange_code(redirect.code)
        path = save_ctrader(login, args.oauth_url)
    except (ConnectError, TokenFileError, OSError) as exc:
        raise CommandError(str(exc)) from None
    finally:
        login.close()
    output.line(f"Access granted; tokens kept in {path}.")
    return 0


# -- the logins 'stream' runs while it streams ---------------------------------------------------


def tradovate_login_for_stream(
    args: argparse.Namespace, parser: argparse.ArgumentParser
) -> TradovateLogin:
    """A started Tradovate login for ``stream --auth-url``: a sign-in with the environment's
    credentials, or else the kept tokens (written back after each renewal)."""
    if os.environ.get("TRADOVATE_USERNAME"):
        login = TradovateLogin(args.auth_url, tradovate_credentials(parser))
    else:
        path = token_path("tradovate")
        try:
            kept = load_tokens(path, "tradovate")
            expiry = expiration_of(kept)
        except TokenFileError as exc:
            raise CommandError(f"{exc} (or set TRADOVATE_USERNAME and the rest)") from None
        login = TradovateLogin(
            args.auth_url, on_tokens=lambda got: save_tradovate(got, args.auth_url, path)
        )
        login.restore(kept["access_token"], kept.get("md_access_token"), expiry)
    _start(login)
    return login


def ctrader_login_for_stream(parser: argparse.ArgumentParser) -> CTraderLogin:
    """A started cTrader login from the kept tokens (refreshed at once when expired, and
    written back after each refresh)."""
    path = token_path("ctrader")
    try:
        kept = load_tokens(path, "ctrader")
        expiry = expiration_of(kept)
    except TokenFileError as exc:
        raise CommandError(str(exc)) from None
    oauth_url = str(kept.get("oauth_url") or CTRADER_OAUTH_URL)
    refresh = kept.get("refresh_token")
    if not isinstance(refresh, Secret):
        raise CommandError(f"{path} holds no refresh token: run 'brokerwire login ctrader'")
    login = CTraderLogin(
        ctrader_app(parser, oauth_url), on_tokens=lambda got: save_ctrader(got, oauth_url, path)
    )
    login.restore(kept["access_token"], refresh, expiry)
    _start(login)
    return login


def _start(login: TradovateLogin | CTraderLogin) -> None:
    try:
        login.start()
    except ConnectError as exc:
        login.close()
        raise CommandError(str(exc)) from None
