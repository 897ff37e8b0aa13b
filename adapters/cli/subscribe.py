"""``brokerwire subscribe nats://host:4222 SUBJECT``: what a JetStream stream carries, printed.

Each message is decoded into the Struct its subject names and printed as ``brokerwire stream``
prints it, one JSON object per line, with ``"subject"`` added after its type. With
``--durable NAME`` the server remembers how far this reader got: the next run with the same
name goes on from there.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from msgspec import Struct

from brokerwire.core.redaction import redact

from ._common import CommandError, Output, positive_float, positive_int
from ._text import json_text
from .render import json_line

__all__ = ["add_parser", "run"]


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "subscribe",
        parents=parents,
        help="print what a NATS JetStream stream carries, as JSON lines",
        description=(
            "Read the events 'brokerwire stream --publish' put on NATS JetStream, through a "
            "pull consumer, and print them as JSON lines (as 'brokerwire stream' does), until "
            "interrupted, --count events, or --idle seconds without one."
        ),
    )
    parser.add_argument(
        "url", metavar="NATS_URL", help="nats://host:4222 (comma-separated: several)"
    )
    parser.add_argument(
        "subject",
        metavar="SUBJECT",
        nargs="?",
        default="brokerwire.>",
        help="subjects to read, wildcards allowed: brokerwire.<broker>.<account>.<kind>"
        "[.<symbol>] (default: brokerwire.>)",
    )
    parser.add_argument(
        "--durable", metavar="NAME", help="a durable consumer: the server keeps its place"
    )
    parser.add_argument(
        "--deliver",
        choices=("all", "new"),
        default="all",
        help="where a new consumer starts: the stream's first event, or the next one "
        "published (default: all)",
    )
    parser.add_argument("--count", type=positive_int, help="stop after this many events")
    parser.add_argument(
        "--idle", type=positive_float, help="stop after this many seconds without an event"
    )
    parser.add_argument(
        "--stream-name", default="BROKERWIRE", help="the stream to read (default: BROKERWIRE)"
    )
    parser.set_defaults(run=run, command_parser=parser)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        from brokerwire.adapters import bus  # noqa: PLC0415 - an optional extra
    except ImportError:
        raise CommandError(
            "subscribe needs the nats extra: pip install 'brokerwire[nats]'"
        ) from None
    if args.durable is not None and not args.durable.replace("-", "").replace("_", "").isalnum():
        parser.error("--durable takes letters, digits, '-' and '_'")
    subscriber = bus.Subscriber(
        [url.strip() for url in args.url.split(",")],
        args.subject,
        durable=args.durable,
        stream=args.stream_name,
        deliver=args.deliver,
    )
    try:
        return asyncio.run(_print(subscriber, args))
    except KeyboardInterrupt:
        return 0


async def _print(subscriber: Any, args: argparse.Namespace) -> int:
    try:
        await subscriber.connect()
    except Exception as exc:
        raise CommandError(f"cannot read from NATS JetStream: {failure_text(exc)}") from None
    output = Output()
    counted = 0
    try:
        async for delivery in subscriber.deliveries(args.idle):
            output.line(_line(delivery))
            counted += 1
            if counted == args.count:
                break
    finally:
        await subscriber.close()
    return 0


def _line(delivery: Any) -> str:
    """The event's JSON line with the subject it came on after its type; a kind this version
    does not know shows its JSON under ``data``, and a payload that did not decode shows under
    ``data`` as it came (bytes that are not JSON as hexadecimal text), with ``reason``."""
    if delivery.reason is None and isinstance(delivery.event, Struct):
        return json_line(delivery.event, subject=delivery.subject)
    record = {"type": delivery.kind, "subject": delivery.subject, "data": delivery.event}
    if delivery.reason is not None:
        record["reason"] = delivery.reason
    return json_text(redact(record))


def failure_text(exc: Exception) -> str:
    """What failed, without the server's address (which may carry a password)."""
    description = getattr(exc, "description", None)
    return f"{type(exc).__name__}: {description}" if description else type(exc).__name__
