"""``brokerwire simulate``: run a broker simulator until interrupted.

It prints where it listens and the credentials it accepts, then serves any number of clients
on one asyncio loop until SIGINT (Ctrl-C) or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any

from ..simulators import CTraderSimulator, Fault, TradovateSimulator
from ..simulators.ctrader import SYMBOLS
from ..simulators.tradovate import CONTRACTS
from ._common import CommandError, Output, port_number, positive_float

__all__ = ["add_parser", "describe_simulator", "run"]


def _fault(text: str) -> Fault:
    try:
        return Fault.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "simulate",
        parents=parents,
        help="run a Tradovate or cTrader simulator on this machine",
        description=(
            "Run an offline simulator of the broker's service until interrupted (Ctrl-C), and "
            "print the URL and the credentials a client should use."
        ),
    )
    parser.add_argument("broker", choices=("tradovate", "ctrader"))
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=port_number, default=0, help="port to listen on (default: a free one)"
    )
    parser.add_argument(
        "--rate",
        type=positive_float,
        default=10.0,
        help="quotes (Tradovate) or spots (cTrader) per second per subscription (default: 10)",
    )
    parser.add_argument(
        "--fault",
        type=_fault,
        help=(
            "a fault for every connection, as kind[:name=value,...]: drop-mid-frame, garbage, "
            "silence, close, shutdown or delay, with after=N messages, code=N, reason=TEXT, "
            "seconds=S (for example close:code=4000,after=10)"
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated prices")
    parser.add_argument(
        "--token-lifetime",
        type=positive_float,
        help="seconds the tokens of its sign-in (Tradovate) or OAuth service (cTrader) last "
        "(default: 90 minutes / 30 days)",
    )
    parser.set_defaults(run=run, command_parser=parser)


def make_simulator(args: argparse.Namespace) -> TradovateSimulator | CTraderSimulator:
    if args.broker == "tradovate":
        return TradovateSimulator(
            host=args.host,
            port=args.port,
            quote_rate=args.rate,
            seed=args.seed,
            default_fault=args.fault,
            token_lifetime=args.token_lifetime or 90 * 60.0,
        )
    return CTraderSimulator(
        host=args.host,
        port=args.port,
        spot_rate=args.rate,
        seed=args.seed,
        default_fault=args.fault,
        token_lifetime=args.token_lifetime or 2_628_000.0,
    )


def describe_simulator(sim: TradovateSimulator | CTraderSimulator) -> list[str]:
    """What a person needs to point a client at ``sim``: URLs, credentials, symbols."""
    if isinstance(sim, TradovateSimulator):
        return [
            f"Tradovate simulator listening on {sim.url}",
            f"  token:        {sim.token}",
            f"  md URL:       {sim.md_url}",
            f"  md token:     {sim.md_token}",
            f"  trading URL:  {sim.trading_url}",
            f"  user id:      {sim.user_id}",
            f"  account id:   {sim.account_id}",
            f"  account name: {sim.account_name}",
            f"  contracts:    {', '.join(CONTRACTS)}",
            f"  auth URL:     {sim.auth_url}",
            f"  user name:    {sim.username}",
            f"  password:     {sim.password}",
            f"  app id:       {sim.app_id}",
            f"  cid:          {sim.cid}",
            f"  sec:          {sim.sec}",
            "Stream from it with:",
            f"  TRADOVATE_TOKEN={sim.token} brokerwire stream tradovate --url {sim.url} "
            f"--symbol {next(iter(CONTRACTS))}",
        ]
    symbols = ", ".join(f"{s['symbolName']} ({symbol_id})" for symbol_id, s in SYMBOLS.items())
    return [
        f"cTrader simulator listening on {sim.host}:{sim.port}",
        f"  WebSocket:     {sim.websocket_url}",
        f"  TCP:           {sim.tcp_url} (length-prefixed or concatenated JSON)",
        f"  client id:     {sim.client_id}",
        f"  client secret: {sim.client_secret}",
        f"  access token:  {sim.access_token}",
        f"  refresh token: {sim.refresh_token}",
        f"  OAuth URL:     {sim.oauth_url}",
        f"  accounts:      {', '.join(str(a) for a in sim.accounts)}",
        f"  symbols:       {symbols}",
        "Stream from it with:",
        f"  CTRADER_CLIENT_ID={sim.client_id} CTRADER_CLIENT_SECRET={sim.client_secret} "
        f"CTRADER_ACCESS_TOKEN={sim.access_token} brokerwire stream ctrader "
        f"--url {sim.websocket_url} --symbol EURUSD",
    ]


async def serve(sim: TradovateSimulator | CTraderSimulator, output: Output) -> None:
    """Run ``sim`` until SIGINT or SIGTERM."""
    try:
        await sim.start()
    except OSError as exc:
        raise CommandError(f"cannot start the simulator: {exc.strerror or exc}") from None
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled: list[signal.Signals] = []
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # no signal handlers on this loop
                loop.add_signal_handler(signum, stop.set)
                handled.append(signum)
        for line in describe_simulator(sim):
            output.line(line)
        output.line("Stop with Ctrl-C.")
        await stop.wait()
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)
        await sim.stop()


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    asyncio.run(serve(make_simulator(args), Output()))
    return 0
