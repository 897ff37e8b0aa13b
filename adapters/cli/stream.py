"""``brokerwire stream``: live events as JSON lines, from the embedded simulator or a broker.

With no ``--url`` a simulator starts on loopback, so the command works offline with no
account. With ``--url`` it connects to the real service with credentials taken from the
options or, better (options show in the process list), from the environment.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import ssl
import time
from collections.abc import Callable, Iterator
from functools import partial
from types import FrameType
from typing import Any, BinaryIO, TypeVar

from brokerwire.core.jsonlib import to_builtins
from brokerwire.core.tcp import Framing

from ..errors import ConnectError, RequestError
from ..events import Disconnected, Reconnected, ReconnectFailed
from ..reconnect import ReconnectPolicy
from ..simulators import CTraderSimulator, TradovateSimulator
from ..threaded import CTraderClient, TradovateClient
from ..token_events import TokenExpired, TokenRenewalFailed, TokenRenewed
from ._common import CommandError, Output, non_negative_int, positive_float, positive_int
from .login import ctrader_login_for_stream, tradovate_login_for_stream
from .publish import add_publish_options, publish_events
from .record import Recorder
from .render import json_line, pretty_line, symbol_digits

__all__ = ["add_parser", "run_ctrader", "run_tradovate"]

TRADOVATE_DEFAULT_SYMBOL = "ESZ6"
CTRADER_DEFAULT_SYMBOL = "EURUSD"

T = TypeVar("T")


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    stream: argparse.ArgumentParser = commands.add_parser(
        "stream",
        parents=parents,
        help="print live events as JSON lines",
        description=(
            "Print live events, one JSON object per line, until interrupted (Ctrl-C) or until "
            "--count events or --duration seconds. With no --url, a simulator is started on "
            "this machine and streamed from."
        ),
    )
    brokers = stream.add_subparsers(dest="broker", metavar="BROKER", required=True)
    common = [*parents, _common_options()]

    tradovate = brokers.add_parser(
        "tradovate",
        parents=common,
        help="quotes from Tradovate's market-data WebSocket",
        description=(
            "Stream quotes from Tradovate. The real market-data service is "
            "wss://md.tradovateapi.com/v1/websocket; it takes the mdAccessToken of an "
            "accessTokenRequest, in TRADOVATE_TOKEN. Contracts may be named (ESZ6) or given "
            "by id (3570918)."
        ),
    )
    tradovate.add_argument(
        "--token",
        default=os.environ.get("TRADOVATE_TOKEN"),
        help="access token (default: $TRADOVATE_TOKEN; prefer the variable)",
    )
    tradovate.add_argument(
        "--auth-url",
        help="sign in at this REST base (https://demo.tradovateapi.com/v1) with "
        "$TRADOVATE_USERNAME, _PASSWORD, _APP_ID, _CID and _SECRET, or else with the tokens "
        "'brokerwire login tradovate' kept, and renew while streaming",
    )
    tradovate.set_defaults(run=run_tradovate, command_parser=tradovate)

    ctrader = brokers.add_parser(
        "ctrader",
        parents=common,
        help="spot prices from the cTrader Open API (JSON)",
        description=(
            "Stream spot prices from cTrader. The real services are "
            "wss://live.ctraderapi.com:5036 and wss://demo.ctraderapi.com:5036 (WebSocket), or "
            "tls://live.ctraderapi.com:5036 and tls://demo.ctraderapi.com:5036 (TCP). "
            "Symbols may be named (EURUSD) or given by id (1). With --pretty, prices show "
            "at each symbol's digits, as the server describes the symbol; one it does not "
            "describe shows as many decimals as each price needs, up to five."
        ),
    )
    for option, variable, what in (
        ("--client-id", "CTRADER_CLIENT_ID", "the application's client id"),
        ("--client-secret", "CTRADER_CLIENT_SECRET", "the application's client secret"),
        ("--access-token", "CTRADER_ACCESS_TOKEN", "the account owner's access token"),
    ):
        ctrader.add_argument(
            option,
            default=os.environ.get(variable),
            help=f"{what} (default: ${variable}; prefer the variable)",
        )
    ctrader.add_argument(
        "--account",
        type=positive_int,
        default=os.environ.get("CTRADER_ACCOUNT_ID"),  # a string default goes through type
        help=(
            "ctidTraderAccountId to stream for (default: $CTRADER_ACCOUNT_ID, or the token's "
            "only account)"
        ),
    )
    ctrader.add_argument(
        "--transport",
        choices=("ws", "tcp"),
        default="ws",
        help="the simulator's endpoint to use (with --url, its scheme decides)",
    )
    ctrader.add_argument(
        "--framing",
        choices=[f.value for f in Framing],
        help="message framing over tls:// and tcp:// (default: length-prefix)",
    )
    ctrader.set_defaults(run=run_ctrader, command_parser=ctrader)


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="the broker's URL (default: start a simulator)")
    common.add_argument(
        "--symbol",
        action="append",
        help="a symbol to stream, by name or id; repeat for more (each is streamed once; "
        "default with the simulator: "
        f"{TRADOVATE_DEFAULT_SYMBOL} / {CTRADER_DEFAULT_SYMBOL})",
    )
    common.add_argument(
        "--count",
        type=positive_int,
        help="stop after this many events from the broker (notices of the link going down "
        "or coming back are printed but not counted)",
    )
    common.add_argument("--duration", type=positive_float, help="stop after this many seconds")
    common.add_argument(
        "--pretty", action="store_true", help="one human-readable line per event instead of JSON"
    )
    common.add_argument(
        "--rate",
        type=positive_float,
        help="the simulator's quotes or spots per second per symbol (default: 10)",
    )
    common.add_argument(
        "--ca-file", help="trust the certificates in this PEM file instead of the system's"
    )
    common.add_argument(
        "--max-retries",
        type=non_negative_int,
        help="give up after this many reconnect attempts in a row (default: never; 0: do not "
        "reconnect)",
    )
    common.add_argument(
        "--timestamps",
        action="store_true",
        help='add "received_at", the local time the event was taken from the client, to each '
        "JSON line (pretty lines always start with it)",
    )
    common.add_argument(
        "--record",
        metavar="FILE",
        help="also write the bytes the server sends on the first connection to FILE, for "
        "'brokerwire decode' (a capture to attach to a bug report)",
    )
    common.add_argument(
        "--connect-timeout",
        type=positive_float,
        default=10.0,
        help="seconds to connect and authorize (default: 10)",
    )
    add_publish_options(common)
    return common


# -- running -------------------------------------------------------------------------------------


def run_tradovate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    return _until_interrupted(_stream_tradovate, args, parser)


def run_ctrader(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    return _until_interrupted(_stream_ctrader, args, parser)


def _until_interrupted(
    stream: Callable[[argparse.Namespace, argparse.ArgumentParser], int],
    args: argparse.Namespace,
    parser: argparse.ArgumentParser,
) -> int:
    """Ctrl-C and SIGTERM end a stream normally: the client closes and the exit code is 0."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        return stream(args, parser)
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stream_tradovate(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    token: Any
    _check_publish_options(args, parser)
    with contextlib.ExitStack() as stack:
        if args.url is None:
            _check_simulator_options(args, parser)
            if args.auth_url is not None:
                parser.error("--auth-url is for --url: the simulator needs no sign-in")
            sim = stack.enter_context(TradovateSimulator(quote_rate=args.rate or 10.0))
            url, token = sim.url, sim.token
            symbols = args.symbol or [TRADOVATE_DEFAULT_SYMBOL]
        elif args.auth_url is not None:
            _check_service_options(args, parser, {})
            login = tradovate_login_for_stream(args, parser)
            stack.callback(login.close)
            url, token, symbols = args.url, login.market_data, args.symbol
        else:
            _check_service_options(args, parser, {"--token / TRADOVATE_TOKEN": args.token})
            url, token, symbols = args.url, args.token, args.symbol
        recorder = _recorder(stack, args, websocket=True)
        client = _make(
            parser,
            lambda: TradovateClient(
                url,
                token=token,
                ssl_context=_ssl_context(args),
                connect_timeout=args.connect_timeout,
                reconnect=_reconnect(args),
                on_received=recorder,
                on_full="pause" if args.publish else "conflate",
            ),
        )
        _connect(stack, client)
        for symbol in _tradovate_symbols(symbols):
            _ask(f"cannot subscribe to {symbol}", partial(client.subscribe_quote, symbol))
        return _deliver(client.events, args, {}, "tradovate", "md")


def _stream_ctrader(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    _check_publish_options(args, parser)
    with contextlib.ExitStack() as stack:
        if args.url is None:
            _check_simulator_options(args, parser)
            if args.transport == "ws" and args.framing is not None:
                parser.error("--framing is for TCP: add --transport tcp")
            sim = stack.enter_context(CTraderSimulator(spot_rate=args.rate or 10.0))
            url = sim.websocket_url if args.transport == "ws" else sim.tcp_url
            credentials = (sim.client_id, sim.client_secret, sim.access_token)
            account: int | None = sim.accounts[0]
            symbols = args.symbol or [CTRADER_DEFAULT_SYMBOL]
        else:
            kept = args.access_token is None and args.client_id and args.client_secret
            _check_service_options(
                args,
                parser,
                {
                    "--client-id / CTRADER_CLIENT_ID": args.client_id,
                    "--client-secret / CTRADER_CLIENT_SECRET": args.client_secret,
                    "--access-token / CTRADER_ACCESS_TOKEN (or 'brokerwire login ctrader')": (
                        "kept" if kept else args.access_token
                    ),
                },
            )
            _check_ctrader_url_options(args, parser)
            url, account, symbols = args.url, args.account, args.symbol
            access: Any = args.access_token
            if kept:
                access = ctrader_login_for_stream(parser)
                stack.callback(access.close)
            credentials = (args.client_id, args.client_secret, access)
        client_id, client_secret, access_token = credentials
        recorder = _recorder(stack, args, websocket=_is_websocket(url))
        client = _make(
            parser,
            lambda: CTraderClient(
                url,
                client_id=client_id,
                client_secret=client_secret,
                access_token=access_token,
                framing=Framing(args.framing or Framing.LENGTH_PREFIX.value),
                ssl_context=_ssl_context(args),
                connect_timeout=args.connect_timeout,
                reconnect=_reconnect(args),
                on_received=recorder,
                on_full="pause" if args.publish else "conflate",
            ),
        )
        _connect(stack, client)
        if account is None:
            account = _only_account(client)
        _ask(f"account {account} was refused", lambda: client.authorize_account(account))
        symbol_ids = _symbol_ids(client, account, symbols)
        digits = _symbol_digits(client, account, symbol_ids)
        _ask("cannot subscribe", lambda: client.subscribe_spots(account, symbol_ids))
        return _deliver(client.events, args, digits, "ctrader", str(account))


# -- pieces --------------------------------------------------------------------------------------


def _is_websocket(url: str) -> bool:
    return url.lower().startswith(("ws://", "wss://"))


def _check_simulator_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.ca_file is not None:
        parser.error("--ca-file is for --url: the simulator speaks plain ws://")


def _check_service_options(
    args: argparse.Namespace, parser: argparse.ArgumentParser, credentials: dict[str, str | None]
) -> None:
    missing = [name for name, value in credentials.items() if not value]
    if missing:
        parser.error(f"--url needs credentials; missing {', '.join(missing)}")
    if args.rate is not None:
        parser.error("--rate sets the simulator's rate: it cannot be used with --url")
    if not args.symbol:
        parser.error("name at least one --symbol to stream")


def _check_ctrader_url_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.transport != "ws":
        parser.error("--transport picks the simulator's endpoint; with --url use tls://")
    if args.framing is not None and _is_websocket(args.url):
        parser.error("--framing is for tls:// and tcp://: a WebSocket carries its own framing")
    if args.record is not None and args.account is None:
        # Without an account the command asks for the token's accounts, and that answer
        # carries the access token: it must not end up in a file meant for a bug report.
        parser.error("--record needs --account (or CTRADER_ACCOUNT_ID) with --url")


def _recorder(
    stack: contextlib.ExitStack, args: argparse.Namespace, *, websocket: bool
) -> Callable[[bytes, int], None] | None:
    """The ``on_received`` hook that writes ``--record``'s file, or None without the option."""
    sink = _record_file(stack, args)
    return Recorder(sink, websocket=websocket).received if sink is not None else None


def _record_file(stack: contextlib.ExitStack, args: argparse.Namespace) -> BinaryIO | None:
    if args.record is None:
        return None
    try:
        return stack.enter_context(open(args.record, "wb"))
    except OSError as exc:
        raise CommandError(f"cannot write {args.record}: {exc.strerror or exc}") from None


def _reconnect(args: argparse.Namespace) -> bool | ReconnectPolicy:
    if args.max_retries is None:
        return True
    if args.max_retries == 0:
        return False
    return ReconnectPolicy(max_attempts=args.max_retries)


def _make(parser: argparse.ArgumentParser, make: Callable[[], T]) -> T:
    try:
        return make()
    except ValueError as exc:  # a URL that does not parse, a scheme the client cannot speak
        parser.error(str(exc))


def _ssl_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if args.ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=args.ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise CommandError(f"cannot load certificates from {args.ca_file}: {exc}") from None


def _connect(stack: contextlib.ExitStack, client: Any) -> None:
    try:
        stack.enter_context(client)
    except ConnectError as exc:
        raise CommandError(str(exc)) from None


def _ask(failure: str, call: Callable[[], T]) -> T:
    try:
        return call()
    except RequestError as exc:
        raise CommandError(f"{failure}: {exc}") from None


def _tradovate_symbols(symbols: list[str]) -> list[str | int]:
    """Names as given, contract ids as numbers; each once, in the order first given."""
    chosen: dict[str | int, None] = {}
    for symbol in symbols:
        chosen.setdefault(int(symbol) if _is_id(symbol) else symbol)
    return list(chosen)


def _only_account(client: CTraderClient) -> int:
    answer = to_builtins(_ask("cannot list the token's accounts", client.get_accounts))
    accounts = [a.get("ctidTraderAccountId") for a in answer.get("ctidTraderAccount", [])]
    if len(accounts) == 1 and isinstance(accounts[0], int):
        return accounts[0]
    if not accounts:
        raise CommandError("the access token gives access to no trading account")
    choices = ", ".join(str(a) for a in accounts)
    raise CommandError(
        f"the access token gives access to several accounts ({choices}): "
        "choose one with --account or CTRADER_ACCOUNT_ID"
    )


def _is_id(symbol: str) -> bool:
    return symbol.isascii() and symbol.isdigit()


def _symbol_ids(client: CTraderClient, account: int, symbols: list[str]) -> list[int]:
    """The ids of ``symbols`` (names or ids), each once, in the order first given."""
    if all(_is_id(symbol) for symbol in symbols):
        return list(dict.fromkeys(int(symbol) for symbol in symbols))
    answer = to_builtins(_ask("cannot list the symbols", lambda: client.get_symbols(account)))
    by_name = {
        str(s.get("symbolName", "")).upper(): s.get("symbolId") for s in answer.get("symbol", [])
    }
    ids: dict[int, None] = {}
    for symbol in symbols:
        symbol_id = int(symbol) if _is_id(symbol) else by_name.get(symbol.upper())
        if not isinstance(symbol_id, int):
            raise CommandError(f"account {account} has no symbol named {symbol!r}")
        ids.setdefault(symbol_id)
    return list(ids)


def _symbol_digits(client: CTraderClient, account: int, symbol_ids: list[int]) -> dict[int, int]:
    """Each symbol's ``digits`` (how many decimals its prices show), as far as the server
    tells; a symbol it does not describe shows as many decimals as each price needs."""
    try:
        return symbol_digits(to_builtins(client.get_symbols_by_id(account, symbol_ids)))
    except RequestError:
        return {}


def _is_notice(event: Any) -> bool:
    """Whether ``event`` tells of the link rather than comes from the broker."""
    return isinstance(
        event,
        Disconnected
        | Reconnected
        | ReconnectFailed
        | TokenRenewed
        | TokenRenewalFailed
        | TokenExpired,
    )


def _check_publish_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    if args.publish is None:
        for option, value in (
            ("--subject-account", args.subject_account),
            ("--stream-name", args.stream_name != "BROKERWIRE"),
            ("--replicas", args.replicas != 1),
        ):
            if value:
                parser.error(f"{option} is for --publish")
    elif args.pretty or args.timestamps:
        parser.error("--pretty and --timestamps shape printed lines: not for --publish")


def _deliver(
    events: Callable[[float | None], Iterator[Any]],
    args: argparse.Namespace,
    digits: dict[int, int],
    broker: str,
    account: str,
) -> int:
    """Print the events, or with --publish put them on NATS JetStream (without losing any:
    the client pauses reading while JetStream catches up)."""
    if args.publish is not None:
        return publish_events(events, args, broker, account, _is_notice)
    return _print_events(events, args, digits)


def _print_events(
    events: Callable[[float | None], Iterator[Any]],
    args: argparse.Namespace,
    digits: dict[int, int],
) -> int:
    """Print events until --count or --duration; an error if the client gives up first."""
    output = Output()
    deadline = None if args.duration is None else time.monotonic() + args.duration
    counted = 0
    last_failure = ""
    last = None
    while True:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return 0
        try:
            for event in events(wait):
                output.line(_render(event, args, digits))
                last = event
                if isinstance(event, Disconnected):
                    last_failure = event.reason or (str(event.error) if event.error else "")
                if not _is_notice(event):
                    counted += 1
                    if counted == args.count:
                        return 0
                if deadline is not None and time.monotonic() >= deadline:
                    return 0
        except TimeoutError:
            continue
        if isinstance(last, ReconnectFailed):
            raise CommandError(_gave_up(last, last_failure))
        if isinstance(last, Disconnected) and not last.reconnecting:
            raise CommandError(f"the connection was lost ({last_failure}); reconnecting is off")
        raise CommandError("the client closed")


def _gave_up(event: ReconnectFailed, last_failure: str) -> str:
    tries = "1 reconnect attempt" if event.attempts == 1 else f"{event.attempts} reconnect attempts"
    why = f" ({last_failure})" if last_failure else ""
    return f"the connection was lost{why} and {tries} failed: giving up"


def _render(event: Any, args: argparse.Namespace, digits: dict[int, int]) -> str:
    now = dt.datetime.now().astimezone()
    if args.pretty:
        return f"{now.strftime('%H:%M:%S.%f')[:-3]} {pretty_line(event, digits)}"
    received_at = now.isoformat(timespec="microseconds") if args.timestamps else None
    return json_line(event, received_at)
