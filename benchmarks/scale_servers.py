"""The server side of the scale benchmark: a Tradovate and a cTrader simulator in a process of
their own, streaming stamped quotes and spots, and answering the benchmark over a pipe.

The benchmark starts several of these so that the simulators, which cost more per message than
the clients they serve, are not what limits the run. They use uvloop when it is installed: they
are the load, not what is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import resource
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from brokerwire.adapters.simulators import CTraderSimulator, TradovateSimulator

__all__ = ["raise_fd_limit", "run_delay", "serve", "uvloop_factory"]


def raise_fd_limit() -> int:
    """Lift the soft limit on open files to the hard one (a thousand links need more than the
    usual 1024); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
    return soft


def run_delay() -> float:
    """Seconds this process's main thread has waited for a core while ready to run (Linux's
    scheduler statistics; 0 where there are none): on a shared machine, the time others took."""
    try:
        with open("/proc/self/schedstat", encoding="ascii") as schedstat:
            return int(schedstat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


def _sent(*simulators: TradovateSimulator | CTraderSimulator) -> int:
    """Messages the simulators' sessions have sent (answers and stream events)."""
    return sum(session.sent for sim in simulators for session in sim.sessions())


async def _serve(pipe: Connection, rate: float, seed: int) -> None:
    tradovate = TradovateSimulator(
        quote_rate=rate, idle_timeout=None, stamp_sends=True, seed=seed, request_limit=10_000
    )
    ctrader = CTraderSimulator(spot_rate=rate, idle_timeout=None, stamp_sends=True, seed=seed)
    async with tradovate, ctrader:
        pipe.send(
            {
                "tradovate": tradovate.url,
                "token": tradovate.token,
                "websocket": ctrader.websocket_url,
                "tcp": ctrader.tcp_url,
                "client_id": ctrader.client_id,
                "client_secret": ctrader.client_secret,
                "access_token": ctrader.access_token,
                "account": ctrader.accounts[0],
            }
        )
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()

        def command() -> None:
            try:
                order = pipe.recv()
            except EOFError:
                order = "stop"
            if order == "sent":
                pipe.send((_sent(tradovate, ctrader), time.process_time(), run_delay()))
            else:
                stop.set()

        loop.add_reader(pipe.fileno(), command)
        try:
            await stop.wait()
        finally:
            loop.remove_reader(pipe.fileno())


def serve(pipe: Connection, rate: float, seed: int) -> None:
    """A server process's body: listen, send the addresses and credentials, then answer
    ``"sent"`` (messages sent so far, the process's CPU seconds and its seconds spent waiting
    for a core) until told ``"stop"``."""
    raise_fd_limit()
    with asyncio.Runner(loop_factory=uvloop_factory()) as runner:
        runner.run(_serve(pipe, rate, seed))


def uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's ``new_event_loop``, or None when uvloop is not installed (it comes with the
    ``bench`` extra, on systems it supports)."""
    try:
        module = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = module.new_event_loop
    return factory
