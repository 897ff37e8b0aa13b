"""``brokerwire stream ... --publish nats://host:4222``: the stream goes to NATS JetStream.

The command's clients are the threaded ones; the publisher is asyncio. A thread takes the
client's events and hands them to the loop through a small bounded queue: while the publisher's
buffer is full (JetStream slow or away) that thread waits, the client's queue fills, and the
client (made with ``on_full="pause"``) stops reading from the broker. Once a second a line on
stderr gives the counts; a last one follows when the stream ends.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from ..events import Disconnected, ReconnectFailed
from ._common import CommandError
from .subscribe import failure_text

__all__ = ["add_publish_options", "publish_events"]

#: Events handed from the client's thread to the loop, at most.
_HANDOFF = 256
#: Seconds between two lines of counts.
_REPORT_EVERY = 1.0
_END = object()


def add_publish_options(common: argparse.ArgumentParser) -> None:
    common.add_argument(
        "--publish",
        metavar="NATS_URL",
        help="publish the events to NATS JetStream (nats://host:4222; several, comma-separated, "
        "for a cluster) instead of printing them; counts go to stderr once a second",
    )
    common.add_argument(
        "--subject-account",
        metavar="LABEL",
        help="with --publish: the <account> of subjects brokerwire.<broker>.<account>.<kind>"
        "[.<symbol>] for events that name no account (default: the cTrader account, 'md' for "
        "Tradovate market data)",
    )
    common.add_argument(
        "--stream-name",
        default="BROKERWIRE",
        help="with --publish: the JetStream stream, made if missing (default: BROKERWIRE)",
    )
    common.add_argument(
        "--replicas",
        type=int,
        choices=(1, 3, 5),
        default=1,
        help="with --publish: the stream's replicas when it is made (default: 1)",
    )


def publish_events(
    events: Callable[[float | None], Iterator[Any]],
    args: argparse.Namespace,
    broker: str,
    account: str,
    is_notice: Callable[[Any], bool],
) -> int:
    """Publish the client's events until --count or --duration, or until the client ends."""
    try:
        from brokerwire.adapters.bus import Publisher  # noqa: PLC0415 - an optional extra
    except ImportError:
        raise CommandError(
            "--publish needs the nats extra: pip install 'brokerwire[nats]'"
        ) from None
    publisher = Publisher(
        [url.strip() for url in args.publish.split(",")],
        broker=broker,
        account=args.subject_account or account,
        stream=args.stream_name,
        replicas=args.replicas,
    )
    return asyncio.run(_publish(publisher, events, args, is_notice))


async def _publish(
    publisher: Any,
    events: Callable[[float | None], Iterator[Any]],
    args: argparse.Namespace,
    is_notice: Callable[[Any], bool],
) -> int:
    try:
        await publisher.connect()
    except Exception as exc:
        raise CommandError(f"cannot publish to NATS JetStream: {failure_text(exc)}") from None
    loop = asyncio.get_running_loop()
    handoff: asyncio.Queue[Any] = asyncio.Queue(_HANDOFF)
    stop = threading.Event()
    taker = threading.Thread(
        target=_take, args=(events, handoff, loop, stop), name="brokerwire-publish", daemon=True
    )
    taker.start()
    reporter = loop.create_task(_report(publisher))
    ended: list[Any] = []
    try:
        await publisher.run(_source(handoff, args, is_notice, ended))
    finally:
        stop.set()
        reporter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reporter
        await publisher.close()
        print(f"brokerwire: {publisher.stats.line()}", file=sys.stderr, flush=True)
    if ended:
        raise CommandError(_why_ended(ended[0]))
    return 0


async def _report(publisher: Any) -> None:
    while True:
        await asyncio.sleep(_REPORT_EVERY)
        print(f"brokerwire: {publisher.stats.line()}", file=sys.stderr, flush=True)


async def _source(
    handoff: asyncio.Queue[Any],
    args: argparse.Namespace,
    is_notice: Callable[[Any], bool],
    ended: list[Any],
) -> AsyncIterator[Any]:
    """The events to publish, until --count broker events or --duration seconds; when the
    client ends first, what it said last goes to ``ended``."""
    deadline = None if args.duration is None else time.monotonic() + args.duration
    counted = 0
    last = None
    while True:
        wait = None if deadline is None else deadline - time.monotonic()
        if wait is not None and wait <= 0:
            return
        try:
            event = await asyncio.wait_for(handoff.get(), wait)
        except TimeoutError:
            return
        if event is _END:
            ended.append(last)
            return
        last = event
        yield event
        if not is_notice(event):
            counted += 1
            if counted == args.count:
                return


def _why_ended(last: Any) -> str:
    if isinstance(last, ReconnectFailed):
        return f"the connection was lost and {last.attempts} reconnect attempts failed: giving up"
    if isinstance(last, Disconnected) and not last.reconnecting:
        return "the connection was lost; reconnecting is off"
    return "the client closed"


def _take(
    events: Callable[[float | None], Iterator[Any]],
    handoff: asyncio.Queue[Any],
    loop: asyncio.AbstractEventLoop,
    stop: threading.Event,
) -> None:
    """The client's thread side: each event to the loop, waiting while the queue is full."""
    while not stop.is_set():
        try:
            for event in events(0.25):
                if not _hand(event, handoff, loop, stop):
                    return
                if stop.is_set():
                    return
        except TimeoutError:
            continue
        _hand(_END, handoff, loop, stop)
        return


def _hand(
    item: Any, handoff: asyncio.Queue[Any], loop: asyncio.AbstractEventLoop, stop: threading.Event
) -> bool:
    try:
        put = asyncio.run_coroutine_threadsafe(handoff.put(item), loop)
    except RuntimeError:  # the loop is closed: the command is ending
        return False
    while True:
        try:
            put.result(timeout=0.25)
            return True
        except concurrent.futures.TimeoutError:
            if stop.is_set():
                put.cancel()
                return False
